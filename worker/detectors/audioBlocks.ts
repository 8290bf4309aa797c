/**
 * The largest sample magnitude (over every channel) of each block of an audio chunk: what
 * audio.silence judges, and what lets audio.clipping skip the blocks that cannot clip. Both ask
 * it of every chunk with the same 20 ms blocks, so the last answer is kept.
 */
import type { AudioChunk } from '../converter/types.js';
import { blockPeaks as peaksOf } from './kernels/kernels.js';

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
