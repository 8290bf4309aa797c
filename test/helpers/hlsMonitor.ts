/**
 * One stream's pipeline on a live HLS source, in this process, as a worker runs it: ffmpeg reads
 * the decoded rendition through its own guard-proxy route (whose downloads the delivery monitor
 * sees), and the converter is re-opened when it ends, like the supervisor does.
 */
import { pino } from 'pino';
import type { DefectEvent, DefectType } from '../../shared/events.js';
import { type PartialThresholds, resolveThresholds } from '../../shared/thresholds.js';
import { DOCUMENTS_BASE, GuardProxy } from '../../worker/egress/GuardProxy.js';
import { StreamPipeline } from '../../worker/pipeline/StreamPipeline.js';

const security = { localMode: true, allowFiles: false, allowedNetworks: [] };

export interface HlsRun {
  pipeline: StreamPipeline;
  stop(): Promise<void>;
}

export async function monitorHls(
  streamId: string,
  url: string,
  detectors: readonly DefectType[],
  onEvent: (event: DefectEvent) => void,
  thresholds: PartialThresholds = {},
  /** false: ffmpeg reads the URL alone, no delivery monitor (the benchmark's baseline). */
  delivery = true,
  decode: 'top' | 'lowest' = 'top',
): Promise<HlsRun> {
  const logger = pino({ level: process.env.TEST_LOG ?? 'silent' }).child({ streamId });
  const proxy = new GuardProxy(security, logger);
  const route = await proxy.open(streamId);
  const pipeline = new StreamPipeline({
    streamId,
    source: url,
    kind: 'http',
    live: true,
    realtime: false,
    thresholds: resolveThresholds(thresholds),
    detectors,
    expect: { audio: true, video: true },
    logger,
    onEvent,
    stallSeconds: 10,
    inputArgs: ['-http_proxy', route],
    upstreamError: () => proxy.unreachable(streamId),
    ...(delivery
      ? { delivery: { security, decode, proxyObserves: true, documentsBase: DOCUMENTS_BASE } }
      : {}),
  });
  proxy.watch(streamId, (exchange) => pipeline.onExchange(exchange));
  proxy.serve(streamId, (path) => pipeline.document(path));
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await pipeline.runOnce();
      if (!stopped) await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    pipeline,
    async stop() {
      stopped = true;
      pipeline.stop();
      await loop;
      await proxy.stop();
    },
  };
}
