/**
 * Detector rules: the defaults of CONTRACT.md §1 and how per-stream overrides merge over them.
 * The schema that validates overrides lives in thresholdsSchema.ts (zod is slow to load, and a
 * short `analyze` run should not pay for it unless it parses flags).
 */

/** Per-stream overrides: any subset of any rule (validated by thresholdsSchema at the edge). */
export type PartialThresholds = { [K in keyof Thresholds]?: Partial<Thresholds[K]> };

export interface Thresholds {
  black: { pixelLuma: number; pictureRatio: number; minDuration: number };
  freeze: { blockNoise: number; minDuration: number };
  corruption: { minDuration: number; blockinessRatio: number };
  silence: { levelDbfs: number; minDuration: number };
  clipping: { levelDbfs: number; minRun: number; minDuration: number };
  loudness: { targetLufs: number; toleranceLu: number; minDuration: number };
  /** audio.true_peak: over `limitDbtp` (dBTP, BS.1770-4) for `minDuration` (0: any overshoot). */
  truePeak: { limitDbtp: number; minDuration: number };
  /** captions.missing: a caption carriage gone (or none, when expected) for `minDuration` s. */
  captions: { minDuration: number };
  desync: { audioEarlyMs: number; audioLateMs: number; minDuration: number };
  loss: { minDuration: number };
  /**
   * Channels of a multichannel stream: a channel is silent below `levelDbfs` (others sounding) for
   * `minDuration`; a stereo pair is out of phase below `phaseCorrelation` for `phaseDuration`.
   */
  channels: { levelDbfs: number; minDuration: number; phaseCorrelation: number; phaseDuration: number };
  /** TR 101 290 checks: seconds a PMT-listed PID may be absent; seconds without errors that end an incident. */
  transport: { pidTimeout: number; quietSeconds: number };
  /**
   * HLS delivery (worker/delivery): a playlist is stale after `staleFactor` × its target duration
   * unchanged; a segment is late when its download takes longer than `slowFactor` × its duration or
   * `segmentTimeout` seconds; renditions not decoded are sampled every `sampleSeconds`; an incident
   * ends after `quietSeconds` of media without the fault.
   */
  delivery: {
    staleFactor: number;
    segmentTimeout: number;
    slowFactor: number;
    sampleSeconds: number;
    quietSeconds: number;
  };
  /**
   * Ad breaks and SCTE-35 checks (worker/delivery/AdBreaks.ts, CueChecks.ts): an out cue needs
   * `minPreroll` seconds of notice; a break without a return ends `breakTolerance` seconds past its
   * planned duration (scte35.overrun); cues count as stopped after `cueTimeout` seconds without one
   * (0: learned from the channel's heartbeats); an incident ends after `quietSeconds` of media
   * without the fault.
   */
  scte35: { minPreroll: number; breakTolerance: number; cueTimeout: number; quietSeconds: number };
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  black: { pixelLuma: 0.1, pictureRatio: 0.98, minDuration: 1.0 },
  freeze: { blockNoise: 8, minDuration: 2.0 },
  corruption: { minDuration: 0.2, blockinessRatio: 4 },
  silence: { levelDbfs: -60, minDuration: 1.0 },
  clipping: { levelDbfs: -1, minRun: 32, minDuration: 0.5 },
  loudness: { targetLufs: -23, toleranceLu: 5, minDuration: 10 },
  truePeak: { limitDbtp: -1, minDuration: 0 },
  captions: { minDuration: 10 },
  desync: { audioEarlyMs: 45, audioLateMs: 125, minDuration: 5 },
  loss: { minDuration: 3 },
  channels: { levelDbfs: -60, minDuration: 2, phaseCorrelation: -0.5, phaseDuration: 3 },
  transport: { pidTimeout: 5, quietSeconds: 5 },
  delivery: { staleFactor: 3, segmentTimeout: 10, slowFactor: 1, sampleSeconds: 6, quietSeconds: 10 },
  scte35: { minPreroll: 4, breakTolerance: 2, cueTimeout: 0, quietSeconds: 30 },
};

/** Merges per-stream overrides over the defaults, key by key. */
export function resolveThresholds(overrides: PartialThresholds = {}): Thresholds {
  const out = structuredClone(DEFAULT_THRESHOLDS);
  for (const key of Object.keys(out) as (keyof Thresholds)[]) {
    Object.assign(out[key], overrides[key] ?? {});
  }
  return out;
}
