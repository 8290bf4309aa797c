/**
 * An http source as a pipeline input: the worker loads it first, and when it is an HLS or DASH
 * ladder, a LadderMonitor (the delivery checks, the rendition ffmpeg decodes, the ladder's view of
 * content events) stays open across the pipeline's restarts. Anything else (a file over http, an
 * endless TS) is read by ffmpeg alone, and that is decided once.
 */

import type { SecurityConfig } from '../../shared/config.js';
import type { DefectEvent, DefectType } from '../../shared/events.js';
import type { Logger } from '../../shared/logger.js';
import type { Thresholds } from '../../shared/thresholds.js';
import { SourceOpenError } from '../converter/errors.js';
import type { MediaClock } from '../converter/MediaClock.js';
import type { LadderMonitor, LadderMonitorOptions } from '../delivery/LadderMonitor.js';
import type { StreamLossDetector } from '../detectors/StreamLossDetector.js';
import type { Emit, Observation } from '../detectors/types.js';
import type { Exchange } from '../egress/GuardProxy.js';

/**
 * HLS and DASH sources: the worker reads playlists and MPDs itself (delivery/LadderMonitor.ts)
 * under this source policy, and decodes one rendition of a ladder.
 */
export interface DeliveryOptions {
  security: SecurityConfig;
  decode: 'top' | 'lowest';
  proxyObserves: boolean;
  /** Where the guard proxy serves document() to ffmpeg (DASH ladders); null: no proxy. */
  documentsBase: string | null;
}

/** What the ladder needs of the pipeline's options. */
export interface LadderInputOptions {
  streamId: string;
  thresholds: Thresholds;
  detectors: readonly DefectType[];
  logger: Logger;
  onEvent: (event: DefectEvent) => void;
  /** Observations of the stream as a whole the ladder makes (SCTE-35 checks): the stream's tracker. */
  observe?: Emit;
  /** The decoded pictures' TS segments, each as it arrives (LadderMonitorOptions.onSegment). */
  onSegment?: LadderMonitorOptions['onSegment'];
  /** Absent: ffmpeg reads every http source alone. */
  delivery?: DeliveryOptions;
}

export class LadderInput {
  private monitor: LadderMonitor | null = null;
  /** The source is not a ladder (checked once): ffmpeg reads it alone. */
  private notLadder = false;
  /** Alarms of renditions open before a restart, handed to the monitor once it is open. */
  private restoredAlarms: DefectEvent[] = [];
  private restoredScopes: DefectEvent[] = [];

  constructor(
    private readonly options: LadderInputOptions,
    private readonly clock: MediaClock,
    private readonly wallAt: (mediaTime: number) => Date,
    private readonly loss: StreamLossDetector | null,
    private readonly stopped: () => boolean,
  ) {}

  /** The open ladder monitor, if the source is one. */
  get ladder(): LadderMonitor | null {
    return this.monitor;
  }

  /** Alarms and scopes from before a restart: rendition alarms wait for the ladder to open. */
  restore(renditionAlarms: DefectEvent[], scopes: DefectEvent[]): void {
    this.restoredAlarms = renditionAlarms;
    this.restoredScopes = scopes;
  }

  /**
   * What ffmpeg opens for `source` (the URL as this run opens it, secret references filled): the
   * decoded rendition (or the monitor's own documents) of a ladder, or the source itself.
   */
  async input(source: string): Promise<string> {
    const { options } = this;
    const delivery = options.delivery;
    if (this.monitor) return this.monitor.decoderUrl;
    if (!delivery || this.notLadder || this.stopped()) return source;
    // Loaded on first use: `analyze` and non-HLS streams never pay for the HTTP client and parser.
    const { LadderMonitor } = await import('../delivery/LadderMonitor.js');
    const { FetchError } = await import('../delivery/guardedGet.js');
    let monitor: LadderMonitor | null;
    this.loss?.waitingFor('loading the playlist');
    try {
      monitor = await LadderMonitor.open(source, {
        streamId: options.streamId,
        security: delivery.security,
        thresholds: options.thresholds,
        types: options.detectors,
        decode: delivery.decode,
        logger: options.logger,
        clock: this.clock,
        wallClock: this.wallAt,
        proxyObserves: delivery.proxyObserves,
        documentsBase: delivery.documentsBase,
        onEvent: options.onEvent,
        observe: options.observe,
        onSegment: options.onSegment,
      });
    } catch (e) {
      const reason = e instanceof FetchError ? `${e.message} (${e.url})` : (e as Error).message;
      throw new SourceOpenError(`cannot load the playlist: ${reason}`, source);
    }
    if (!monitor) {
      this.notLadder = true;
      return source;
    }
    if (this.stopped()) return source;
    this.monitor = monitor;
    monitor.restore(this.restoredAlarms);
    for (const e of this.restoredScopes) monitor.rememberScope(e);
    monitor.start();
    options.logger.info(
      { renditions: monitor.renditions.map((r) => r.ref), decoded: monitor.decoded.ref.uri },
      'ladder source: watching every rendition',
    );
    return monitor.decoderUrl;
  }

  /** An observation of the decoded media (black and freeze, for the ladder's scope). */
  noteDecoded(o: Observation): void {
    this.monitor?.noteDecoded(o);
  }

  /** A download ffmpeg made through the guard proxy (the decoded rendition's segments). */
  onExchange(exchange: Exchange): void {
    this.monitor?.onExchange(exchange);
  }

  /** A document of this stream's own that the guard proxy serves ffmpeg (a DASH ladder's playlists). */
  document(path: string): string | null {
    return this.monitor?.document(path) ?? null;
  }

  tick(): void {
    this.monitor?.tick();
  }

  stop(): void {
    this.monitor?.stop();
  }
}
