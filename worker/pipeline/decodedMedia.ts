/**
 * Where a converter's output goes: each picture and sound chunk to every media rule, the evidence
 * store and the caller's sound tap, counted in the run's result; media a file replays after the
 * decode profile changed (ProfileSwitch) to the rule that asked for it alone.
 */
import type { Logger } from '../../shared/logger.js';
import type { ConverterHandlers } from '../converter/Converter.js';
import type { AudioChunk } from '../converter/types.js';
import type { DetectorSet } from '../detectors/DetectorSet.js';
import type { Evidence } from './Evidence.js';
import type { ProfileSwitch } from './ProfileSwitch.js';
import type { RunResult } from './types.js';

export interface DecodedMediaOptions {
  result: RunResult;
  profile: ProfileSwitch;
  detectors: DetectorSet;
  logger: Logger;
  evidence?: Evidence;
  onSound?: (chunk: AudioChunk) => void;
  /** Media at media time t arrived at wall time wallMs (not called for replayed media). */
  advance: (t: number, wallMs: number) => void;
}

export function decodedMedia(o: DecodedMediaOptions): ConverterHandlers {
  const { result, profile, detectors } = o;
  return {
    onVideo: (frame) => {
      const only = profile.pictureOnlyFor(frame.t);
      if (only) return detectors.videoTo(only, frame);
      result.frames++;
      o.advance(frame.t, frame.wallMs);
      detectors.video(frame);
    },
    onAudio: (chunk) => {
      const only = profile.soundOnlyFor(chunk.t);
      if (only) return detectors.audioTo(only, chunk);
      result.audioChunks++;
      o.advance(chunk.t, chunk.wallMs);
      detectors.audio(chunk);
      o.evidence?.sound(chunk);
      o.onSound?.(chunk);
    },
    onThumbnail: (jpeg, t) => o.evidence?.picture(jpeg, t),
    onDecodeError: (t, message) => {
      if (profile.replaying(t)) return;
      result.decodeErrors++;
      if (result.decodeErrors <= 5) o.logger.debug({ t, message }, 'decode error');
      detectors.decodeError(t, message);
    },
  };
}
