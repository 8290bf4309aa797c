/**
 * Sparse luma sampling shared by the picture detectors: about 160 points across each row the
 * converter delivers (it already keeps only every eighth row), enough to judge black and frozen
 * pictures at a fraction of the cost of reading every pixel.
 */
import type { VideoFrame } from '../converter/types.js';
import { darkCount } from './kernels/kernels.js';

/** Sampling step, in pixels, that keeps roughly 160 samples per row. */
export function sampleStep(width: number): number {
  return Math.max(1, Math.floor(width / 160));
}

/** The last answer of darkFraction: video.black and video.freeze both ask it of every picture. */
let lastFrame: VideoFrame | null = null;
let lastBelow = -1;
let lastAnswer = { ratio: 0, mean: 0 };

/** Fraction of sampled pixels below a code value, and the mean code value. */
export function darkFraction(frame: VideoFrame, below: number): { ratio: number; mean: number } {
  if (frame === lastFrame && below === lastBelow) return lastAnswer;
  const { width, height } = frame;
  const step = sampleStep(width);
  const first = step >> 1;
  const count = Math.ceil((width - first) / step) * height;
  // Code values are integers: v < below exactly when v < ceil(below).
  const { dark, sum } = darkCount(frame, first, step, Math.ceil(below));
  lastFrame = frame;
  lastBelow = below;
  lastAnswer = { ratio: count ? dark / count : 0, mean: count ? sum / count : 0 };
  return lastAnswer;
}
