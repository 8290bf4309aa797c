/**
 * stream.loss: no decodable media arriving for ≥ 3 s. Live inputs are judged on the wall clock
 * (ticks while nothing arrives); files on media time (a gap in the timestamps of every track).
 * An input that cannot be opened at all is reported by the pipeline through `sourceFailed`.
 */
import type { AudioChunk, VideoFrame } from '../converter/types.js';
import type { Detector, DetectorContext } from './types.js';

export class StreamLossDetector implements Detector {
  readonly type = 'stream.loss' as const;
  /** Media time where the newest decoded media ends. */
  private mediaEnd: number | null = null;
  private lastArrivalMs = Date.now();
  private lossReported = false;

  constructor(private readonly context: DetectorContext) {}

  onVideo(frame: VideoFrame): void {
    this.arrived(frame.t, frame.t + frame.duration);
  }

  onAudio(chunk: AudioChunk): void {
    this.arrived(chunk.t, chunk.t + chunk.samples.length / chunk.channels / chunk.sampleRate);
  }

  onTick(nowMs: number): void {
    if (!this.context.live || this.mediaEnd === null) return;
    const silentFor = (nowMs - this.lastArrivalMs) / 1000;
    if (silentFor < this.context.thresholds.loss.minDuration) return;
    this.lossReported = true;
    this.context.emit({
      type: this.type,
      t: this.mediaEnd,
      duration: silentFor,
      active: true,
      detail: { maxSecondsWithoutMedia: Math.round(silentFor * 10) / 10 },
    });
  }

  /** The source could not be opened or died: media time stands still while the wall clock runs. */
  sourceFailed(reason: string, silentForSeconds: number): void {
    this.lossReported = true;
    this.context.emit({
      type: this.type,
      t: this.mediaEnd ?? 0,
      duration: silentForSeconds,
      active: true,
      detail: { reason },
    });
  }

  private arrived(t: number, end: number): void {
    this.lastArrivalMs = Date.now();
    const gap = this.mediaEnd === null ? 0 : t - this.mediaEnd;
    if (!this.context.live && gap >= this.context.thresholds.loss.minDuration) {
      this.context.emit({
        type: this.type,
        t: this.mediaEnd!,
        duration: gap,
        active: true,
        detail: { maxSecondsWithoutMedia: Math.round(gap * 10) / 10 },
      });
      this.lossReported = true;
    }
    if (this.lossReported) {
      this.context.emit({ type: this.type, t: Math.max(t, this.mediaEnd ?? t), duration: 0, active: false });
      this.lossReported = false;
    }
    this.mediaEnd = Math.max(this.mediaEnd ?? end, end);
  }
}
