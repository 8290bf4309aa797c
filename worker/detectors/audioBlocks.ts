/**
 * The largest sample magnitude (over every channel) of each block of an audio chunk: what
 * audio.silence judges, and what lets audio.clipping skip the blocks that cannot clip. Both ask
 * it of every chunk with the same 20 ms blocks, so the last answer is kept.
 */

import type { DefectType } from '../../shared/events.js';
import type { AudioChunk } from '../converter/types.js';
import { blockPeaks as peaksOf } from './kernels/kernels.js';
import type { Detail, Emit } from './types.js';

let lastChunk: AudioChunk | null = null;
let lastBlockFrames = 0;
let lastPeaks: Float32Array = new Float32Array(0);

/** Peaks of blocks of `blockFrames` frames from the chunk's start (the last block may be short). */
export function blockPeaks(chunk: AudioChunk, blockFrames: number): Float32Array {
  if (chunk === lastChunk && blockFrames === lastBlockFrames) return lastPeaks;
  const peaks = peaksOf(chunk, blockFrames);
  lastChunk = chunk;
  lastBlockFrames = blockFrames;
  lastPeaks = peaks;
  return peaks;
}

/** A stretch of consecutive blocks that agree (BlockRuns). */
export interface BlockRun {
  t: number;
  /** Where its last block ends (each block's own t + duration: no sum of durations). */
  end: number;
  active: boolean;
  /** The largest peak of its blocks. */
  peak: number;
  /** audio.clipping's counts, summed over its blocks. */
  clippedRuns: number;
  overRange: number;
}

/**
 * A rule's 20 ms blocks handed to the alarm tracker as runs: consecutive blocks of a chunk that
 * agree make one observation, from the first's start for their whole length, with the largest
 * peak and the counts summed — what the tracker makes of them one by one (DetailAccumulator:
 * `peak…` the largest, `count…` added), for one call instead of five: fifty calls a second per
 * rule cost more than judging the blocks.
 */
export class BlockRuns {
  private readonly run: BlockRun = { t: 0, end: 0, active: false, peak: 0, clippedRuns: 0, overRange: 0 };
  private open = false;

  constructor(
    private readonly emit: Emit,
    private readonly type: DefectType,
    private readonly detail: (run: BlockRun) => Detail,
  ) {}

  /** The next block; call end() after a chunk's last. */
  add(t: number, duration: number, active: boolean, peak: number, clippedRuns = 0, overRange = 0): void {
    const run = this.run;
    if (this.open && run.active !== active) this.end();
    if (!this.open) {
      this.open = true;
      run.t = t;
      run.active = active;
      run.peak = peak;
      run.clippedRuns = 0;
      run.overRange = 0;
    }
    run.end = t + duration;
    if (peak > run.peak) run.peak = peak;
    run.clippedRuns += clippedRuns;
    run.overRange += overRange;
  }

  /** Hands on the run so far. */
  end(): void {
    if (!this.open) return;
    this.open = false;
    const run = this.run;
    this.emit({
      type: this.type,
      t: run.t,
      duration: run.end - run.t,
      active: run.active,
      detail: this.detail(run),
    });
  }
}
