/**
 * video.freeze: the picture does not change beyond encoder noise for ≥ 2.0 s. Each frame is
 * compared block by block with the last frame that changed, so slow motion accumulates into a
 * change instead of hiding under a per-frame noise floor; a black picture is left to video.black.
 */
import type { VideoFrame } from '../converter/types.js';
import { isBlackPicture } from './BlackDetector.js';
import { sampleStep } from './lumaStats.js';
import type { Detector, DetectorContext } from './types.js';

/** Side of the comparison blocks, in sampled pixels. */
const BLOCK = 8;

export class FreezeDetector implements Detector {
  readonly type = 'video.freeze' as const;
  private reference: Uint8Array | null = null;
  private refWidth = 0;
  private refHeight = 0;

  constructor(private readonly context: DetectorContext) {}

  onVideo(frame: VideoFrame): void {
    const sampled = sample(frame);
    const sw = Math.ceil(frame.width / sampleStep(frame.width));
    const sh = sampled.length / sw;
    if (!this.reference || this.refWidth !== sw || this.refHeight !== sh) {
      this.reference = sampled;
      this.refWidth = sw;
      this.refHeight = sh;
      this.report(frame, false, 0);
      return;
    }
    const maxBlockDiff = largestBlockChange(this.reference, sampled, sw, sh);
    const unchanged = maxBlockDiff <= this.context.thresholds.freeze.blockNoise;
    if (!unchanged) this.reference = sampled;
    this.report(frame, unchanged && !isBlackPicture(frame, this.context.thresholds.black), maxBlockDiff);
  }

  private report(frame: VideoFrame, active: boolean, change: number): void {
    this.context.emit({
      type: this.type,
      t: frame.t,
      duration: frame.duration,
      active,
      detail: { maxBlockChange: Math.round(change * 100) / 100 },
    });
  }
}

/** Copies the sampling grid of a frame into a compact array. */
function sample(frame: VideoFrame): Uint8Array {
  const { luma, width, height } = frame;
  const step = sampleStep(width);
  const sw = Math.ceil(width / step);
  const sh = Math.ceil(height / step);
  const out = new Uint8Array(sw * sh);
  let i = 0;
  for (let y = 0; y < sh; y++) {
    const row = y * step * width;
    for (let x = 0; x < sw; x++) out[i++] = luma[row + x * step];
  }
  return out;
}

/** The largest mean absolute difference of any BLOCK×BLOCK block between two sampled frames. */
export function largestBlockChange(a: Uint8Array, b: Uint8Array, width: number, height: number): number {
  const bw = Math.ceil(width / BLOCK);
  const sums = new Float64Array(bw);
  const counts = new Uint32Array(bw);
  let worst = 0;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const d = a[row + x] - b[row + x];
      const bx = (x / BLOCK) | 0;
      sums[bx] += d < 0 ? -d : d;
      counts[bx]++;
    }
    if (y % BLOCK === BLOCK - 1 || y === height - 1) {
      for (let bx = 0; bx < bw; bx++) {
        if (counts[bx]) worst = Math.max(worst, sums[bx] / counts[bx]);
        sums[bx] = 0;
        counts[bx] = 0;
      }
    }
  }
  return worst;
}
