/**
 * The media detectors of one stream as one receiver of what the converter decodes: each frame,
 * sound chunk, decode error, tick and end goes to every detector that looks at it. With
 * `stageTimes` (benchmarks only) the milliseconds each detector spends on pictures and sound are
 * added up per defect type.
 */
import { type DefectType, isMediaType, type MediaType } from '../../shared/events.js';
import type { AudioChunk, TrackInfo, VideoFrame } from '../converter/types.js';
import { DETECTORS } from './index.js';
import { StreamLossDetector } from './StreamLossDetector.js';
import type { Detector, DetectorContext } from './types.js';

export class DetectorSet {
  private detectors: Detector[];
  /** The stream.loss rule, when it runs: it decides what an outage is. */
  readonly loss: StreamLossDetector | null;

  constructor(
    types: readonly DefectType[],
    private readonly context: DetectorContext,
    private readonly stageTimes?: Map<string, number>,
  ) {
    this.detectors = types.filter(isMediaType).map((type) => DETECTORS[type](context));
    this.loss = (this.detectors.find((d) => d instanceof StreamLossDetector) as StreamLossDetector) ?? null;
  }

  get all(): readonly Detector[] {
    return this.detectors;
  }

  /**
   * Starts one rule afresh (its measurement so far forgotten), to be fed media again from an
   * earlier point by videoTo/audioTo. Not for stream.loss.
   */
  renew(type: MediaType): void {
    this.detectors = this.detectors.map((d) => (d.type === type ? DETECTORS[type](this.context) : d));
  }

  /** A picture for one rule only (media the others have already seen). */
  videoTo(type: DefectType, frame: VideoFrame): void {
    for (const d of this.detectors) if (d.type === type) d.onVideo?.(frame);
  }

  /** A sound chunk for one rule only. */
  audioTo(type: DefectType, chunk: AudioChunk): void {
    for (const d of this.detectors) if (d.type === type) d.onAudio?.(chunk);
  }

  /** The detectors of transport errors (UDP/RTP sources read by the worker). */
  get transport(): Detector[] {
    return this.detectors.filter((d) => d.onTransport);
  }

  /** Resolves when every detector can judge (see Detector.ready). */
  async ready(): Promise<void> {
    await Promise.all(this.detectors.map((d) => d.ready));
  }

  tracks(tracks: TrackInfo): void {
    for (const d of this.detectors) d.onTracks?.(tracks);
  }

  video(frame: VideoFrame): void {
    const times = this.stageTimes;
    if (times) for (const d of this.detectors) timed(times, d.type, () => d.onVideo?.(frame));
    else for (const d of this.detectors) d.onVideo?.(frame);
  }

  audio(chunk: AudioChunk): void {
    const times = this.stageTimes;
    if (times) for (const d of this.detectors) timed(times, d.type, () => d.onAudio?.(chunk));
    else for (const d of this.detectors) d.onAudio?.(chunk);
  }

  decodeError(t: number, message: string): void {
    for (const d of this.detectors) d.onDecodeError?.(t, message);
  }

  tick(nowMs: number, mediaTime: number): void {
    for (const d of this.detectors) d.onTick?.(nowMs, mediaTime);
  }

  end(t: number): void {
    for (const d of this.detectors) d.onEnd?.(t);
  }
}

/** Runs `work`, adding the milliseconds it took to `times[key]`. */
function timed(times: Map<string, number>, key: string, work: () => void): void {
  const start = performance.now();
  work();
  times.set(key, (times.get(key) ?? 0) + performance.now() - start);
}
