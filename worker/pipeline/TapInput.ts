/**
 * A UDP or RTP source as a pipeline input when a transport check runs: the worker reads the
 * datagrams itself (transport/UdpTap.ts: TR 101 290 as they arrive) and relays them to ffmpeg on
 * loopback. The tap opens with the first run and stays open across the decoder's restarts, so the
 * source's port stays bound; each tick hands the errors counted since the last one to the
 * transport detectors.
 */
import type { DefectEvent } from '../../shared/events.js';
import type { Logger } from '../../shared/logger.js';
import { SourceOpenError } from '../converter/errors.js';
import type { MediaClock } from '../converter/MediaClock.js';
import { type AdBreaks, adBreaksFor } from '../delivery/AdBreaks.js';
import type { Detector, Emit } from '../detectors/types.js';
import type { CueReport } from '../transport/cueLog.js';
import { UdpTap } from '../transport/UdpTap.js';
import type { PipelineOptions } from './types.js';

export class TapInput {
  private tap: UdpTap | null = null;
  /** Media time of the last tick: the errors handed on since cover [transportT, now]. */
  private transportT = 0;

  constructor(
    private readonly detectors: readonly Detector[],
    private readonly logger: Logger,
    private readonly pidTimeoutSeconds: number,
    private readonly stopped: () => boolean,
    /** SCTE-35 cues read from the stream's cue PID (ad breaks). */
    private readonly onCues?: (cues: CueReport[]) => void,
  ) {}

  /** The loopback URL ffmpeg reads, opening the tap on the source's address the first time. */
  async input(source: string): Promise<string> {
    if (this.tap) return this.tap.url;
    if (this.stopped()) return source;
    let tap: UdpTap;
    try {
      tap = await UdpTap.open(source, this.logger, this.pidTimeoutSeconds);
    } catch (e) {
      throw new SourceOpenError(`cannot read ${source}: ${(e as Error).message}`, source);
    }
    // Stopped while the socket was opening: nothing may keep the source's port bound.
    if (this.stopped()) tap.close();
    else this.tap = tap;
    return tap.url;
  }

  /** The relay ffmpeg reads, once the tap is open. */
  get decoderInput(): string | null {
    return this.tap?.url ?? null;
  }

  /** An FFmpeg message with the relay's address (what FFmpeg read) put back to the source's. */
  sourceNamed(text: string, source: string): string {
    if (!this.tap) return text;
    const relay = this.tap.url.replace(/\?.*$/, '');
    return text.split(this.tap.url).join(source).split(relay).join(source);
  }

  /** Runs the time-based checks and hands what was counted since the last tick to the detectors. */
  tick(nowMs: number, mediaTime: number): void {
    if (!this.tap) return;
    this.tap.analyzer.check(nowMs);
    const errors = this.tap.analyzer.take();
    for (const d of this.detectors)
      d.onTransport?.(errors, this.transportT, Math.max(0, mediaTime - this.transportT));
    this.transportT = mediaTime;
    const cues = this.tap.analyzer.takeCues();
    if (cues.length) this.onCues?.(cues);
  }

  stop(): void {
    this.tap?.close();
    this.tap = null;
  }
}

/**
 * The tap of a UDP/RTP source, when the worker reads it: a transport check runs, or (live) its
 * SCTE-35 cues are followed for ad breaks (AdBreaks, which emits through `emit`) and checked
 * (`scte35.*`, observations to `observe`: the stream's alarm tracker). Null otherwise:
 * ffmpeg reads the source alone (an HLS source's breaks are the ladder's).
 */
export function tapFor(
  options: Pick<PipelineOptions, 'kind' | 'live' | 'detectors' | 'streamId' | 'logger' | 'thresholds'>,
  transport: readonly Detector[],
  clock: MediaClock,
  wallAt: (mediaTime: number) => Date,
  emit: (event: DefectEvent) => void,
  observe: Emit,
  stopped: () => boolean,
): { tap: TapInput; breaks: AdBreaks | null } | null {
  if (options.kind !== 'udp' && options.kind !== 'rtp') return null;
  const breaks = options.live
    ? adBreaksFor(options.detectors, options.thresholds, options.streamId, clock, wallAt, emit, observe)
    : null;
  if (!transport.length && !breaks) return null;
  const tap = new TapInput(
    transport,
    options.logger,
    options.thresholds.transport.pidTimeout,
    stopped,
    breaks ? (cues) => breaks.spliced(cues, (pts) => clock.mediaTimeOf(pts)) : undefined,
  );
  return { tap, breaks };
}
