/** video.black: ≥ 98% of pixels below 10% luma, for ≥ 1.0 s (CONTRACT.md §1). */
import { lumaLevel, type VideoFrame } from '../converter/types.js';
import { darkFraction } from './lumaStats.js';
import type { Detector, DetectorContext } from './types.js';

/** True when a picture counts as black under the stream's black rule. */
export function isBlackPicture(frame: VideoFrame, rule: DetectorContext['thresholds']['black']): boolean {
  return darkFraction(frame, lumaLevel(frame, rule.pixelLuma)).ratio >= rule.pictureRatio;
}

export class BlackDetector implements Detector {
  readonly type = 'video.black' as const;

  constructor(private readonly context: DetectorContext) {}

  onVideo(frame: VideoFrame): void {
    const rule = this.context.thresholds.black;
    const { ratio, mean } = darkFraction(frame, lumaLevel(frame, rule.pixelLuma));
    const black = lumaLevel(frame, 0);
    const meanLuma = Math.max(0, ((mean - black) / (lumaLevel(frame, 1) - black)) * 100);
    this.context.emit({
      type: this.type,
      t: frame.t,
      duration: frame.duration,
      active: ratio >= rule.pictureRatio,
      detail: { meanLuma: Math.round(meanLuma * 10) / 10, blackRatio: Math.round(ratio * 1000) / 1000 },
    });
  }
}
