/** audio.silence: every channel below −60 dBFS, for ≥ 1.0 s; judged in 20 ms blocks. */
import type { AudioChunk } from '../converter/types.js';
import { fromDbfs, toDbfs } from './audioLevels.js';
import type { Detector, DetectorContext } from './types.js';

/** Blocks per second: the time resolution of silence start and end. */
const BLOCKS_PER_SECOND = 50;

export class SilenceDetector implements Detector {
  readonly type = 'audio.silence' as const;

  constructor(private readonly context: DetectorContext) {}

  onAudio(chunk: AudioChunk): void {
    const { samples, channels, sampleRate } = chunk;
    const level = fromDbfs(this.context.thresholds.silence.levelDbfs);
    const frames = samples.length / channels;
    const blockFrames = Math.max(1, Math.round(sampleRate / BLOCKS_PER_SECOND));
    for (let from = 0; from < frames; from += blockFrames) {
      const to = Math.min(frames, from + blockFrames);
      let peak = 0;
      for (let i = from * channels; i < to * channels; i++) {
        const v = samples[i] < 0 ? -samples[i] : samples[i];
        if (v > peak) peak = v;
      }
      this.context.emit({
        type: this.type,
        t: chunk.t + from / sampleRate,
        duration: (to - from) / sampleRate,
        active: peak < level,
        detail: { peakDbfs: Math.round(toDbfs(peak) * 10) / 10 },
      });
    }
  }
}
