/**
 * video.corruption: decoding errors reported by the decoder, or visible block corruption
 * (macroblocking), for ≥ 0.2 s. Macroblocking shows as luma steps that line up with the codec's
 * 8-pixel block grid while the inside of each block is flat; natural pictures have no such grid.
 */
import type { VideoFrame } from '../converter/types.js';
import type { Detector, DetectorContext } from './types.js';

/** How long after a decode error the picture is taken as damaged (error concealment lingers). */
const ERROR_PERSISTENCE = 0.3;
/** Steps on block edges must average at least this many code values to count as visible. */
const MIN_EDGE_STEP = 4;
/** Pictures are judged by eye at most this often (seconds): corruption lingers for many frames. */
const LOOK_INTERVAL = 0.12;

export class CorruptionDetector implements Detector {
  readonly type = 'video.corruption' as const;
  private damagedUntil = -1;
  private errorsSinceFrame = 0;
  private lastLook = Number.NEGATIVE_INFINITY;

  constructor(private readonly context: DetectorContext) {}

  onDecodeError(t: number): void {
    this.damagedUntil = Math.max(this.damagedUntil, t + ERROR_PERSISTENCE);
    this.errorsSinceFrame++;
  }

  onVideo(frame: VideoFrame): void {
    const errors = this.errorsSinceFrame;
    this.errorsSinceFrame = 0;
    // B pictures skip deblocking (see ffmpegArgs), so only reference pictures are judged by eye,
    // and only every LOOK_INTERVAL; the alarm tracker's bridge carries a verdict across the gaps.
    let blockiness = 0;
    if (frame.pictType !== 'B' && frame.t - this.lastLook >= LOOK_INTERVAL) {
      blockiness = blockEdgeRatio(frame);
      this.lastLook = frame.t;
    }
    const blocky = blockiness >= this.context.thresholds.corruption.blockinessRatio;
    const damaged = errors > 0 || frame.t <= this.damagedUntil;
    this.context.emit({
      type: this.type,
      t: frame.t,
      duration: frame.duration,
      active: damaged || blocky,
      detail: { countDecodeErrors: errors, maxBlockiness: Math.round(blockiness * 100) / 100 },
    });
  }
}

/**
 * Ratio of the mean horizontal luma step across block-grid columns to the mean step elsewhere,
 * on every row delivered (every eighth of the picture); 0 when the picture is too flat to judge.
 */
export function blockEdgeRatio(frame: VideoFrame): number {
  const { luma, width, height } = frame;
  // The 8-pixel transform grid at up to 2× downscale, the 16-pixel macroblock grid beyond.
  const grid = frame.scale >= 4 ? 16 / frame.scale : 8 / frame.scale;
  let edgeSum = 0;
  let innerSum = 0;
  let edgeCount = 0;
  let innerCount = 0;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let previous = luma[row];
    let phase = 1;
    for (let x = 1; x < width; x++) {
      const v = luma[row + x];
      const step = v > previous ? v - previous : previous - v;
      previous = v;
      if (phase === grid) {
        phase = 0;
        edgeSum += step;
        edgeCount++;
      } else {
        innerSum += step;
        innerCount++;
      }
      phase++;
    }
  }
  if (!edgeCount || !innerCount) return 0;
  const edge = edgeSum / edgeCount;
  if (edge < MIN_EDGE_STEP) return 0;
  return edge / Math.max(innerSum / innerCount, 0.5);
}
