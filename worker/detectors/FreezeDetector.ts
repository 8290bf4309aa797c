/**
 * video.freeze: the picture does not change beyond encoder noise for ≥ 2.0 s. Each frame is
 * compared block by block with the last frame that changed, so slow motion accumulates into a
 * change instead of hiding under a per-frame noise floor; a black picture is left to video.black.
 *
 * Encoders re-code a still picture now and then. While they refine a picture that has just
 * stopped, its blocks differ from the reference in texture but hardly in mean brightness: that is
 * not a change (the reference stays, so slow motion still accumulates against it). An intra
 * picture of a frozen stream steps further (a few code values in some block's mean) and the
 * pictures after it are copies of it; motion goes on changing. So an intra picture whose change
 * is moderate waits for the next picture: if that one is a copy, the intra picture was a refresh.
 */
import type { VideoFrame } from '../converter/types.js';
import { isBlackPicture } from './BlackDetector.js';
import { blockChanges, sampleGrid } from './kernels/kernels.js';
import { sampleStep } from './lumaStats.js';
import type { Detector, DetectorContext } from './types.js';

/** Side of the comparison blocks in samples: 64 px across and 64 rows down on a 1280×720 picture. */
const BLOCK = 8;
/** Largest shift of any block's mean luma (code values) that requantisation alone shows. */
const REFRESH_MEAN_SHIFT = 1.5;
/** Largest shift of any block's mean an intra picture may show and still be a refresh. */
const INTRA_MEAN_SHIFT = 6;
/** A picture whose largest block change against the one before is at most this is a copy of it. */
const COPY_NOISE = 0.5;

interface PendingIntra {
  t: number;
  duration: number;
  black: boolean;
  change: number;
  sample: Uint8Array;
}

export class FreezeDetector implements Detector {
  readonly type = 'video.freeze' as const;
  /** Sampled luma of the last picture that changed. */
  private reference: Uint8Array | null = null;
  private current: Uint8Array | null = null;
  private refWidth = 0;
  /** An intra picture whose verdict waits for the next picture. */
  private pending: PendingIntra | null = null;

  constructor(private readonly context: DetectorContext) {}

  onVideo(frame: VideoFrame): void {
    const step = sampleStep(frame.width);
    const sw = Math.ceil(frame.width / step);
    const sh = frame.height;
    if (!this.current || this.current.length !== sw * sh) this.current = new Uint8Array(sw * sh);
    // The sampling grid of the frame, in a compact array: every row, every step-th pixel.
    sampleGrid(frame, 0, step, 1, this.current);
    if (!this.reference || this.reference.length !== this.current.length || this.refWidth !== sw) {
      this.reference = this.current.slice();
      this.refWidth = sw;
      this.pending = null;
      this.report(frame.t, frame.duration, false, 0);
      return;
    }
    const black = isBlackPicture(frame, this.context.thresholds.black);
    if (this.pending) {
      const pending = this.pending;
      this.pending = null;
      const copy = blockChanges(pending.sample, this.current, sw, sh, BLOCK).maxBlockDiff <= COPY_NOISE;
      this.reference.set(pending.sample);
      this.report(pending.t, pending.duration, copy && !pending.black, pending.change);
    }
    const { maxBlockDiff, maxMeanShift } = blockChanges(this.reference, this.current, sw, sh, BLOCK);
    const unchanged =
      maxBlockDiff <= this.context.thresholds.freeze.blockNoise || maxMeanShift <= REFRESH_MEAN_SHIFT;
    if (!unchanged && frame.pictType === 'I' && maxMeanShift <= INTRA_MEAN_SHIFT) {
      this.pending = {
        t: frame.t,
        duration: frame.duration,
        black,
        change: maxBlockDiff,
        sample: this.current.slice(),
      };
      return;
    }
    if (!unchanged) [this.reference, this.current] = [this.current, this.reference];
    this.report(frame.t, frame.duration, unchanged && !black, maxBlockDiff);
  }

  /** The input ended with an intra picture still waiting: it counts as a change. */
  onEnd(): void {
    if (this.pending) this.report(this.pending.t, this.pending.duration, false, this.pending.change);
    this.pending = null;
  }

  private report(t: number, duration: number, active: boolean, change: number): void {
    this.context.emit({
      type: this.type,
      t,
      duration,
      active,
      detail: { maxBlockChange: Math.round(change * 100) / 100 },
    });
  }
}
