/**
 * Detector rules: the defaults of CONTRACT.md §1 and the schema that validates per-stream
 * overrides (API bodies and CLI flags alike).
 */
import { z } from 'zod';

const seconds = z.number().finite().min(0).max(3600);

export const thresholdsSchema = z.strictObject({
  black: z
    .strictObject({
      /** Luma below this fraction of the nominal range counts as a black pixel. */
      pixelLuma: z.number().min(0).max(1),
      /** Fraction of black pixels that makes a black picture. */
      pictureRatio: z.number().min(0).max(1),
      minDuration: seconds,
    })
    .partial(),
  freeze: z
    .strictObject({
      /** Largest mean absolute luma change (0–255) of any block still counted as "no change". */
      blockNoise: z.number().min(0).max(255),
      minDuration: seconds,
    })
    .partial(),
  corruption: z
    .strictObject({
      minDuration: seconds,
      /** Ratio of luma steps on block edges to steps inside blocks that counts as macroblocking. */
      blockinessRatio: z.number().min(1).max(100),
    })
    .partial(),
  silence: z.strictObject({ levelDbfs: z.number().min(-150).max(0), minDuration: seconds }).partial(),
  clipping: z
    .strictObject({
      levelDbfs: z.number().min(-6).max(0),
      /** Consecutive samples at or above the level that make one clipped run. */
      minRun: z.number().int().min(1).max(100),
      minDuration: seconds,
    })
    .partial(),
  loudness: z
    .strictObject({
      targetLufs: z.number().min(-70).max(0),
      toleranceLu: z.number().min(0).max(40),
      minDuration: seconds,
    })
    .partial(),
  desync: z
    .strictObject({
      /** Audio ahead of video by more than this is a defect (BT.1359: 45 ms). */
      audioEarlyMs: z.number().min(0).max(5000),
      /** Audio behind video by more than this is a defect (BT.1359: 125 ms). */
      audioLateMs: z.number().min(0).max(5000),
      minDuration: seconds,
    })
    .partial(),
  loss: z.strictObject({ minDuration: seconds }).partial(),
});

export type ThresholdOverrides = z.infer<typeof thresholdsSchema>;
export type PartialThresholds = { [K in keyof ThresholdOverrides]?: ThresholdOverrides[K] };

export interface Thresholds {
  black: { pixelLuma: number; pictureRatio: number; minDuration: number };
  freeze: { blockNoise: number; minDuration: number };
  corruption: { minDuration: number; blockinessRatio: number };
  silence: { levelDbfs: number; minDuration: number };
  clipping: { levelDbfs: number; minRun: number; minDuration: number };
  loudness: { targetLufs: number; toleranceLu: number; minDuration: number };
  desync: { audioEarlyMs: number; audioLateMs: number; minDuration: number };
  loss: { minDuration: number };
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  black: { pixelLuma: 0.1, pictureRatio: 0.98, minDuration: 1.0 },
  freeze: { blockNoise: 8, minDuration: 2.0 },
  corruption: { minDuration: 0.2, blockinessRatio: 3 },
  silence: { levelDbfs: -60, minDuration: 1.0 },
  clipping: { levelDbfs: -1, minRun: 32, minDuration: 0.5 },
  loudness: { targetLufs: -23, toleranceLu: 5, minDuration: 10 },
  desync: { audioEarlyMs: 45, audioLateMs: 125, minDuration: 5 },
  loss: { minDuration: 3 },
};

/** Merges per-stream overrides over the defaults, key by key. */
export function resolveThresholds(overrides: PartialThresholds = {}): Thresholds {
  const out = structuredClone(DEFAULT_THRESHOLDS);
  for (const key of Object.keys(out) as (keyof Thresholds)[]) {
    Object.assign(out[key], overrides[key] ?? {});
  }
  return out;
}
