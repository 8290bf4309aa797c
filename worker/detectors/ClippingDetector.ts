/**
 * audio.clipping: sustained clipping, i.e. runs of consecutive samples at full scale recurring
 * for ≥ 0.5 s. A lone full-scale peak is not clipping; flattened waveform tops are.
 */
import type { AudioChunk } from '../converter/types.js';
import { fromDbfs, toDbfs } from './audioLevels.js';
import type { Detector, DetectorContext } from './types.js';

/** Blocks per second: the time resolution of clipping start and end. */
const BLOCKS_PER_SECOND = 50;

export class ClippingDetector implements Detector {
  readonly type = 'audio.clipping' as const;
  /** Current run length per channel, carried across chunk boundaries. */
  private runs: number[] = [];

  constructor(private readonly context: DetectorContext) {}

  onAudio(chunk: AudioChunk): void {
    const { samples, channels, sampleRate } = chunk;
    const rule = this.context.thresholds.clipping;
    const level = fromDbfs(rule.levelDbfs);
    if (this.runs.length !== channels) this.runs = new Array(channels).fill(0);
    const frames = samples.length / channels;
    const blockFrames = Math.max(1, Math.round(sampleRate / BLOCKS_PER_SECOND));
    for (let from = 0; from < frames; from += blockFrames) {
      const to = Math.min(frames, from + blockFrames);
      let clippedRuns = 0;
      let peak = 0;
      for (let f = from; f < to; f++) {
        for (let ch = 0; ch < channels; ch++) {
          const s = samples[f * channels + ch];
          const v = s < 0 ? -s : s;
          if (v > peak) peak = v;
          if (v >= level) {
            if (++this.runs[ch] === rule.minRun) clippedRuns++;
          } else {
            this.runs[ch] = 0;
          }
        }
      }
      this.context.emit({
        type: this.type,
        t: chunk.t + from / sampleRate,
        duration: (to - from) / sampleRate,
        active: clippedRuns > 0,
        detail: { countClippedRuns: clippedRuns, peakDbfs: Math.round(toDbfs(peak) * 100) / 100 },
      });
    }
  }
}
