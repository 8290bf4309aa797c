/** What a stream's pipeline is given (PipelineOptions) and what one run of it returns (RunResult). */
import type { DecodeProfile } from '../../shared/decodeProfile.js';
import type { DefectEvent, DefectType } from '../../shared/events.js';
import type { Logger } from '../../shared/logger.js';
import type { Thresholds } from '../../shared/thresholds.js';
import type { ConverterExit } from '../converter/Converter.js';
import type { SourceOpenError } from '../converter/errors.js';
import type { SourceKind } from '../converter/sourceKind.js';
import type { AudioChunk, TrackInfo } from '../converter/types.js';
import type { Evidence } from './Evidence.js';
import type { DeliveryOptions } from './LadderInput.js';

export interface PipelineOptions {
  streamId: string;
  source: string;
  kind: SourceKind;
  /** Live: wall-clock rules apply (stream.loss on silence, wall times on events). */
  live: boolean;
  /** Read at native rate (-re). */
  realtime: boolean;
  thresholds: Thresholds;
  detectors: readonly DefectType[];
  expect: { audio: boolean; video: boolean; captions?: boolean };
  /** The stream's slate picture (PNG or JPEG, base64): on screen, it is `video.slate`. */
  slate?: string;
  logger: Logger;
  onEvent: (event: DefectEvent) => void;
  /** Called for every frame's media time; lets callers measure progress and lag. */
  onProgress?: (mediaTime: number, tracks: TrackInfo) => void;
  /**
   * Benchmarks only (`npm run bench:analyze`): milliseconds spent in each detector's picture and
   * sound handlers are added here. Absent: nothing is timed.
   */
  stageTimes?: Map<string, number>;
  stallSeconds?: number;
  threads?: number;
  /** `reference` (default): decode reference pictures only; `full`: every picture. */
  decodeProfile?: DecodeProfile;
  /** Extra ffmpeg/ffprobe input options (e.g. the guarding http proxy). */
  inputArgs?: string[];
  /**
   * HLS and DASH sources: the worker reads playlists and MPDs itself (delivery/LadderMonitor.ts)
   * under this source policy, and decodes one rendition of a ladder. Absent: ffmpeg reads alone.
   */
  delivery?: DeliveryOptions;
  /** Every chunk of decoded sound, after the detectors (analyze's programme loudness). */
  onSound?: (chunk: AudioChunk) => void;
  /** Thumbnails and alarm evidence (a worker with a media store); absent: neither. */
  evidence?: Evidence;
  /** Why the origin behind the guard proxy cannot be reached now, if it cannot (GuardProxy.unreachable). */
  upstreamError?: () => string | undefined;
}

export interface RunResult {
  tracks: TrackInfo | null;
  exit: ConverterExit | null;
  error: SourceOpenError | null;
  frames: number;
  audioChunks: number;
  decodeErrors: number;
  /** ffmpeg read the input to its end (a file, or a playlist that was closed). */
  ended: boolean;
}
