/**
 * Sparse luma sampling shared by the picture detectors: about 160 points across each row the
 * converter delivers (it already keeps only every eighth row), enough to judge black and frozen
 * pictures at a fraction of the cost of reading every pixel.
 */
import type { VideoFrame } from '../converter/types.js';

/** Sampling step, in pixels, that keeps roughly 160 samples per row. */
export function sampleStep(width: number): number {
  return Math.max(1, Math.floor(width / 160));
}

/** Fraction of sampled pixels below a code value, and the mean code value. */
export function darkFraction(frame: VideoFrame, below: number): { ratio: number; mean: number } {
  const { luma, width, height } = frame;
  const step = sampleStep(width);
  let dark = 0;
  let sum = 0;
  let count = 0;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = step >> 1; x < width; x += step) {
      const v = luma[row + x];
      sum += v;
      if (v < below) dark++;
      count++;
    }
  }
  return { ratio: count ? dark / count : 0, mean: count ? sum / count : 0 };
}
