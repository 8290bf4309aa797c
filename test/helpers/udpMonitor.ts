/** One stream's pipeline on a live UDP (or RTP) source, in this process, as a worker would run it. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { DefectEvent, DefectType } from '../../shared/events.js';
import { resolveThresholds } from '../../shared/thresholds.js';
import { StreamPipeline } from '../../worker/pipeline/StreamPipeline.js';
import { makeClip } from './clips.js';

export function monitorUdp(
  streamId: string,
  port: number,
  detectors: readonly DefectType[],
  onEvent: (event: DefectEvent) => void,
  kind: 'udp' | 'rtp' = 'udp',
): StreamPipeline {
  return new StreamPipeline({
    streamId,
    source: `${kind}://127.0.0.1:${port}`,
    kind,
    live: true,
    realtime: false,
    thresholds: resolveThresholds(),
    detectors,
    expect: { audio: true, video: true },
    logger: pino({ level: 'silent' }),
    onEvent,
  });
}

/**
 * A test-card clip longer than the run that plays it: a sender looping a clip jumps its
 * timestamps (and PCR) at the loop point, which the transport checks rightly report.
 */
export function clipLongerThan(seconds: number): string {
  const clip = join(mkdtempSync(join(tmpdir(), 'streamqc-udp-')), 'source.ts');
  makeClip(clip, seconds + 30);
  return clip;
}
