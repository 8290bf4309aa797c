/**
 * The largest sample magnitude (over every channel) of each block of an audio chunk: what
 * audio.silence judges, and what lets audio.clipping skip the blocks that cannot clip. Both ask
 * it of every chunk with the same 20 ms blocks, so the last answer is kept.
 */
import type { AudioChunk } from '../converter/types.js';

let lastChunk: AudioChunk | null = null;
let lastBlockFrames = 0;
let lastPeaks = new Float32Array(0);

/** Peaks of blocks of `blockFrames` frames from the chunk's start (the last block may be short). */
export function blockPeaks(chunk: AudioChunk, blockFrames: number): Float32Array {
  if (chunk === lastChunk && blockFrames === lastBlockFrames) return lastPeaks;
  const { samples, channels } = chunk;
  const frames = samples.length / channels;
  const peaks = new Float32Array(Math.ceil(frames / blockFrames));
  for (let k = 0; k < peaks.length; k++) {
    const end = Math.min(frames, (k + 1) * blockFrames) * channels;
    let peak = 0;
    for (let i = k * blockFrames * channels; i < end; i++) {
      const s = samples[i];
      const v = s < 0 ? -s : s;
      if (v > peak) peak = v;
    }
    peaks[k] = peak;
  }
  lastChunk = chunk;
  lastBlockFrames = blockFrames;
  lastPeaks = peaks;
  return peaks;
}
