/**
 * audio.true_peak: the true peak (ITU-R BS.1770-4, 4× oversampled: truePeak.ts) over
 * `thresholds.truePeak.limitDbtp` (−1 dBTP, EBU R128's maximum; ATSC A/85 uses −2), held for
 * `minDuration` (0: any overshoot). Judged per sound chunk (100 ms). Runs when a stream lists it
 * in its detectors: a delivery-compliance rule, not a fault of every stream.
 */
import type { AudioChunk } from '../converter/types.js';
import { fromDbfs, toDbfs } from './audioLevels.js';
import { TruePeak } from './truePeak.js';
import type { Detector, DetectorContext } from './types.js';

export class TruePeakDetector implements Detector {
  readonly type = 'audio.true_peak' as const;
  private meter: TruePeak | null = null;

  constructor(private readonly context: DetectorContext) {}

  onAudio(chunk: AudioChunk): void {
    const { samples, channels, sampleRate } = chunk;
    if (this.meter?.channels !== channels) this.meter = new TruePeak(channels);
    const limit = this.context.thresholds.truePeak.limitDbtp;
    // Chunks that cannot reach the limit skip the interpolation filter.
    const peak = this.meter.peak(samples, fromDbfs(limit));
    const peakDbtp = Math.round(toDbfs(peak) * 100) / 100;
    const active = peakDbtp > limit;
    this.context.emit({
      type: this.type,
      t: chunk.t,
      duration: samples.length / channels / sampleRate,
      active,
      detail: active ? { peakDbtp, limitDbtp: limit } : { limitDbtp: limit },
    });
  }
}
