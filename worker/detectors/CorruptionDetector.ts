/**
 * video.corruption: decoding errors for ≥ 0.2 s, and the visible damage they leave behind.
 *
 * The decoder is the witness: an error line from the video decoder (after the first key frame of
 * a run: a live stream joined mid-GOP is not damage) opens an episode. A no-reference blockiness
 * measure (luma steps on the codec's block grid against steps inside blocks) cannot tell damage
 * from a low bitrate, MPEG-2's block structure or a banded gradient, so it never raises alone: it
 * only carries an open episode on while the picture stays blockier than the stream's own running
 * baseline (concealment spreads through predicted pictures until the next clean key frame).
 */
import type { VideoFrame } from '../converter/types.js';
import { rowSteps } from './kernels/kernels.js';
import type { Detector, DetectorContext } from './types.js';

/** How long after a decode error the picture is taken as damaged (error concealment lingers). */
const ERROR_PERSISTENCE = 0.3;
/** Longest an episode is carried on by blockiness alone after the last decode error, seconds. */
const MAX_CARRY = 2;
/** Blockiness this many times the stream's baseline carries an episode on. */
const BASELINE_FACTOR = 1.5;
/** Weight of each clean picture in the running blockiness baseline. */
const BASELINE_WEIGHT = 0.02;
/** Steps on block edges must average at least this many code values to count as visible. */
const MIN_EDGE_STEP = 4;
/** Pictures are judged by eye at most this often (seconds): corruption lingers for many frames. */
const LOOK_INTERVAL = 0.12;

export class CorruptionDetector implements Detector {
  readonly type = 'video.corruption' as const;
  private damagedUntil = Number.NEGATIVE_INFINITY;
  private lastError = Number.NEGATIVE_INFINITY;
  private errorsSinceFrame = 0;
  private lastLook = Number.NEGATIVE_INFINITY;
  private baseline: number | null = null;

  constructor(private readonly context: DetectorContext) {}

  onDecodeError(t: number): void {
    this.damagedUntil = Math.max(this.damagedUntil, t + ERROR_PERSISTENCE);
    this.lastError = Math.max(this.lastError, t);
    this.errorsSinceFrame++;
  }

  onVideo(frame: VideoFrame): void {
    const errors = this.errorsSinceFrame;
    this.errorsSinceFrame = 0;
    const inEpisode = errors > 0 || frame.t <= this.damagedUntil;
    const carrying = !inEpisode && frame.t - this.lastError <= MAX_CARRY;
    // B pictures skip deblocking (see ffmpegArgs), so only reference pictures are judged by eye,
    // and only every LOOK_INTERVAL; the alarm tracker's bridge carries a verdict across the gaps.
    let blockiness = 0;
    if (frame.pictType !== 'B' && frame.t - this.lastLook >= LOOK_INTERVAL) {
      blockiness = blockEdgeRatio(frame);
      this.lastLook = frame.t;
      if (!inEpisode && !carrying) {
        this.baseline =
          this.baseline === null
            ? blockiness
            : this.baseline + (blockiness - this.baseline) * BASELINE_WEIGHT;
      }
    }
    const limit = Math.max(
      this.context.thresholds.corruption.blockinessRatio,
      (this.baseline ?? 0) * BASELINE_FACTOR,
    );
    // A clean key frame ends the carry: nothing after it is predicted from the damage.
    const visible = carrying && blockiness >= limit && !(frame.pictType === 'I' && errors === 0);
    if (visible) this.damagedUntil = frame.t + LOOK_INTERVAL;
    this.context.emit({
      type: this.type,
      t: frame.t,
      duration: frame.duration,
      active: inEpisode || visible,
      detail: { countDecodeErrors: errors, maxBlockiness: Math.round(blockiness * 100) / 100 },
    });
  }
}

/**
 * Every JUDGED_ROW_STEP-th delivered row is judged (one source row in sixteen): the mean step of
 * 45 rows of 1280 pixels is as steady as that of 90, for half the time of the detector's loop.
 */
const JUDGED_ROW_STEP = 2;

/**
 * Ratio of the mean horizontal luma step across block-grid columns to the mean step elsewhere,
 * on every other row delivered (one in sixteen of the picture); 0 when the picture is too flat
 * to judge.
 */
export function blockEdgeRatio(frame: VideoFrame): number {
  const { width, height } = frame;
  // The 8-pixel transform grid at up to 2× downscale, the 16-pixel macroblock grid beyond.
  const grid = frame.scale >= 4 ? 16 / frame.scale : 8 / frame.scale;
  const { edges: edgeSum, inner: innerSum } = rowSteps(frame, grid, JUDGED_ROW_STEP);
  const edgesPerRow = width > 1 ? Math.floor((width - 1) / grid) : 0;
  const rows = Math.ceil(height / JUDGED_ROW_STEP);
  const edgeCount = edgesPerRow * rows;
  const innerCount = Math.max(0, width - 1 - edgesPerRow) * rows;
  if (!edgeCount || !innerCount) return 0;
  const edge = edgeSum / edgeCount;
  if (edge < MIN_EDGE_STEP) return 0;
  return edge / Math.max(innerSum / innerCount, 0.5);
}
