/** audio.silence: every channel below −60 dBFS, for ≥ 1.0 s. */
import type { AudioChunk } from '../converter/types.js';
import { toDbfs } from './audioLevels.js';
import type { Detector, DetectorContext } from './types.js';

export class SilenceDetector implements Detector {
  readonly type = 'audio.silence' as const;

  constructor(private readonly context: DetectorContext) {}

  onAudio(chunk: AudioChunk): void {
    const { samples } = chunk;
    let peak = 0;
    for (let i = 0; i < samples.length; i++) {
      const v = samples[i] < 0 ? -samples[i] : samples[i];
      if (v > peak) peak = v;
    }
    const peakDbfs = toDbfs(peak);
    this.context.emit({
      type: this.type,
      t: chunk.t,
      duration: samples.length / chunk.channels / chunk.sampleRate,
      active: peakDbfs < this.context.thresholds.silence.levelDbfs,
      detail: { peakDbfs: Math.round(peakDbfs * 10) / 10 },
    });
  }
}
