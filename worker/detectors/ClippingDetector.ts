/**
 * audio.clipping: sustained clipping within ≥ 0.5 s. A 20 ms block is clipped when it shows any
 * of three signs, recurring (the alarm tracker bridges short gaps between clipped blocks):
 * - over-range: decoded samples beyond full scale (> 0 dBFS). A lossy decoder hands back what an
 *   overdriven source carried; every device clips it on output.
 * - samples pinned at the rail (within 0.01 dB of full scale): hard clipping of wideband
 *   programme (noise, music) leaves many short flat runs there, too short for the run rule.
 * - flat tops: runs of ≥ `minRun` consecutive samples at or above `levelDbfs` (a clipper below
 *   full scale, or clipped low-frequency content).
 * Loud programme that peaks below full scale (−1 dBFS) shows none of them.
 */
import type { AudioChunk } from '../converter/types.js';
import { BlockRuns, blockPeaks } from './audioBlocks.js';
import { fromDbfs, toDbfs } from './audioLevels.js';
import type { Detail, Detector, DetectorContext } from './types.js';

/** Blocks per second: the time resolution of clipping start and end. */
const BLOCKS_PER_SECOND = 50;
/** Above this a sample is over range (0 dBFS plus float rounding). */
const OVER_RANGE = 1.0001;
/** At or above this a sample sits on the rail (−0.01 dBFS). */
const RAIL = 0.9989;
/** Samples on the rail in one block that make the block clipped. */
const MIN_RAIL_SAMPLES = 3;

export class ClippingDetector implements Detector {
  readonly type = 'audio.clipping' as const;
  /** Current run length per channel, carried across chunk boundaries. */
  private runs: number[] = [];
  private readonly blockRuns: BlockRuns;

  constructor(private readonly context: DetectorContext) {
    this.blockRuns = new BlockRuns(
      (o) => context.emit(o),
      this.type,
      (run): Detail => {
        const peakDbfs = Math.round(toDbfs(run.peak) * 100) / 100;
        return run.active
          ? { countClippedRuns: run.clippedRuns, countOverRange: run.overRange, peakDbfs }
          : { peakDbfs };
      },
    );
  }

  onAudio(chunk: AudioChunk): void {
    const { samples, channels, sampleRate } = chunk;
    const rule = this.context.thresholds.clipping;
    const level = fromDbfs(rule.levelDbfs);
    if (this.runs.length !== channels) this.runs = new Array(channels).fill(0);
    const frames = samples.length / channels;
    const blockFrames = Math.max(1, Math.round(sampleRate / BLOCKS_PER_SECOND));
    const peaks = blockPeaks(chunk, blockFrames);
    for (let k = 0, from = 0; from < frames; k++, from += blockFrames) {
      const to = Math.min(frames, from + blockFrames);
      let clippedRuns = 0;
      let overRange = 0;
      let onRail = 0;
      const peak = peaks[k];
      // Nothing in the block reaches the level (most programme): every run ends, nothing counts.
      const quiet = peak < level;
      if (quiet) this.runs.fill(0);
      for (let f = quiet ? to : from; f < to; f++) {
        for (let ch = 0; ch < channels; ch++) {
          const s = samples[f * channels + ch];
          const v = s < 0 ? -s : s;
          if (v >= level) {
            if (++this.runs[ch] === rule.minRun) clippedRuns++;
            if (v >= RAIL) {
              onRail++;
              if (v > OVER_RANGE) overRange++;
            }
          } else {
            this.runs[ch] = 0;
          }
        }
      }
      const active = overRange > 0 || onRail >= MIN_RAIL_SAMPLES || clippedRuns > 0;
      const t = chunk.t + from / sampleRate;
      this.blockRuns.add(t, (to - from) / sampleRate, active, peak, clippedRuns, overRange);
    }
    this.blockRuns.end();
  }
}
