/** The detector contract: typed frames in, observations out; incidents are the tracker's job. */
import type { DefectType } from '../../shared/events.js';
import type { Thresholds } from '../../shared/thresholds.js';
import type { AudioChunk, TrackInfo, VideoFrame } from '../converter/types.js';
import type { TransportErrors } from '../transport/TsAnalyzer.js';

export type Detail = Record<string, number | string | boolean>;

/** What a detector saw over one stretch of media: the condition held (active) or not. */
export interface Observation {
  type: DefectType;
  /** Media time, seconds, where the stretch starts. */
  t: number;
  /** Length of the stretch, seconds. */
  duration: number;
  active: boolean;
  detail?: Detail;
}

export type Emit = (observation: Observation) => void;

/** One defect rule. Each hook is optional: a detector implements the inputs it looks at. */
export interface Detector {
  readonly type: DefectType;
  onTracks?(tracks: TrackInfo): void;
  onVideo?(frame: VideoFrame): void;
  onAudio?(chunk: AudioChunk): void;
  onDecodeError?(t: number, message: string): void;
  /** Transport errors counted over the media from t to t + duration (UDP sources). */
  onTransport?(errors: TransportErrors, t: number, duration: number): void;
  /** Wall-clock tick for live inputs: `mediaTime` is the newest media time decoded so far. */
  onTick?(nowMs: number, mediaTime: number): void;
  /** The input ended at media time t. */
  onEnd?(t: number): void;
  /** Resolves when the detector can judge (a slate picture decoded); the decoder waits for it. */
  readonly ready?: Promise<void>;
}

export interface DetectorContext {
  thresholds: Thresholds;
  emit: Emit;
  /** True when the input is live (wall-clock rules apply). */
  live: boolean;
  /** True for segmented sources (HLS, DASH), which deliver media a segment at a time. */
  segmented?: boolean;
  /** Tracks the stream is expected to carry. */
  expect: { audio: boolean; video: boolean; captions?: boolean };
  /**
   * The stream's slate as 32×18 cell means of full-range luma (converter/slate.ts), once decoded;
   * null when it could not be (video.slate then judges nothing). Absent: the stream has none.
   */
  slate?: Promise<Uint8Array | null>;
  /**
   * Asks for every picture to be decoded from now on (the `full` profile), with the reason: a
   * rule that cannot judge from reference pictures alone. The pipeline decides; absent: never.
   */
  decodeEveryPicture?: (reason: string) => void;
}

export type DetectorFactory = (context: DetectorContext) => Detector;
