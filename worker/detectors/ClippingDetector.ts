/**
 * audio.clipping: sustained clipping, i.e. runs of consecutive samples at full scale recurring
 * for ≥ 0.5 s. A lone full-scale peak is not clipping; flattened waveform tops are.
 */
import type { AudioChunk } from '../converter/types.js';
import { fromDbfs, toDbfs } from './audioLevels.js';
import type { Detector, DetectorContext } from './types.js';

export class ClippingDetector implements Detector {
  readonly type = 'audio.clipping' as const;
  /** Current run length per channel, carried across chunk boundaries. */
  private runs: number[] = [];

  constructor(private readonly context: DetectorContext) {}

  onAudio(chunk: AudioChunk): void {
    const { samples, channels } = chunk;
    const rule = this.context.thresholds.clipping;
    const level = fromDbfs(rule.levelDbfs);
    if (this.runs.length !== channels) this.runs = new Array(channels).fill(0);
    let clippedRuns = 0;
    let peak = 0;
    for (let i = 0; i < samples.length; i++) {
      const ch = i % channels;
      const v = samples[i] < 0 ? -samples[i] : samples[i];
      if (v > peak) peak = v;
      if (v >= level) {
        if (++this.runs[ch] === rule.minRun) clippedRuns++;
      } else {
        this.runs[ch] = 0;
      }
    }
    this.context.emit({
      type: this.type,
      t: chunk.t,
      duration: samples.length / channels / chunk.sampleRate,
      active: clippedRuns > 0,
      detail: { countClippedRuns: clippedRuns, peakDbfs: Math.round(toDbfs(peak) * 100) / 100 },
    });
  }
}
