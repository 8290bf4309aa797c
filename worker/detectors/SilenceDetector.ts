/** audio.silence: every channel below −60 dBFS, for ≥ 1.0 s; judged in 20 ms blocks. */
import type { AudioChunk } from '../converter/types.js';
import { BlockRuns, blockPeaks } from './audioBlocks.js';
import { fromDbfs, toDbfs } from './audioLevels.js';
import type { Detector, DetectorContext } from './types.js';

/** Blocks per second: the time resolution of silence start and end. */
const BLOCKS_PER_SECOND = 50;

export class SilenceDetector implements Detector {
  readonly type = 'audio.silence' as const;
  private readonly runs: BlockRuns;

  constructor(private readonly context: DetectorContext) {
    this.runs = new BlockRuns(
      (o) => context.emit(o),
      this.type,
      (run) => ({
        peakDbfs: Math.round(toDbfs(run.peak) * 10) / 10,
      }),
    );
  }

  onAudio(chunk: AudioChunk): void {
    const { samples, channels, sampleRate } = chunk;
    const level = fromDbfs(this.context.thresholds.silence.levelDbfs);
    const frames = samples.length / channels;
    const blockFrames = Math.max(1, Math.round(sampleRate / BLOCKS_PER_SECOND));
    const peaks = blockPeaks(chunk, blockFrames);
    for (let k = 0, from = 0; from < frames; k++, from += blockFrames) {
      const to = Math.min(frames, from + blockFrames);
      const peak = peaks[k];
      this.runs.add(chunk.t + from / sampleRate, (to - from) / sampleRate, peak < level, peak);
    }
    this.runs.end();
  }
}
