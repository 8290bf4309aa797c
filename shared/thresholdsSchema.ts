/** Validation of per-stream threshold overrides, shared by the API and the CLI flags. */
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
  truePeak: z
    .strictObject({
      /** EBU R128: −1 dBTP; ATSC A/85: −2 dBTP. */
      limitDbtp: z.number().min(-20).max(6),
      minDuration: seconds,
    })
    .partial(),
  captions: z.strictObject({ minDuration: seconds }).partial(),
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
  channels: z
    .strictObject({
      /** A channel whose peak stays below this (dBFS) is silent. */
      levelDbfs: z.number().min(-150).max(0),
      minDuration: seconds,
      /** Correlation of a stereo pair (−1 … 1) below which it is out of phase. */
      phaseCorrelation: z.number().min(-1).max(0),
      phaseDuration: seconds,
    })
    .partial(),
  transport: z
    .strictObject({
      /** TR 101 290 1.6: seconds a PID named in the PMT may be absent (TR default 5). */
      pidTimeout: z.number().min(0.5).max(60),
      /** Seconds without errors of a type that end its incident. */
      quietSeconds: z.number().min(1).max(600),
    })
    .partial(),
  delivery: z
    .strictObject({
      /** A live playlist unchanged for this many target durations is stale (CONTRACT: 3). */
      staleFactor: z.number().min(1.5).max(20),
      /** Seconds a segment or playlist request may take at most. */
      segmentTimeout: z.number().min(1).max(120),
      /** A segment whose download takes longer than this × its duration is late (1: real time). */
      slowFactor: z.number().min(0.1).max(10),
      /** Seconds between sampled segments of each rendition that is not decoded. */
      sampleSeconds: z.number().min(1).max(600),
      /** Seconds of media without the fault that end a delivery incident. */
      quietSeconds: z.number().min(1).max(600),
    })
    .partial(),
  scte35: z
    .strictObject({
      /** Seconds of notice an out cue must give before its splice (SCTE 67: 4). */
      minPreroll: z.number().min(0).max(60),
      /** Seconds past a break's planned end before it counts as over without its return. */
      breakTolerance: z.number().min(0).max(600),
      /** Seconds without any cue after which a channel's cues count as stopped (0: learned). */
      cueTimeout: z.number().min(0).max(86400),
      /** Seconds of media without the fault that end an SCTE-35 incident. */
      quietSeconds: z.number().min(1).max(3600),
    })
    .partial(),
});
