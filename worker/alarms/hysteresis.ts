/**
 * How each type's alarm tolerates flicker, in seconds of media time: `bridge` is the longest
 * lapse that does not break a pending condition, `clearAfter` how long a raised condition must be
 * absent before the alarm clears. Hold-off (how long before raising) is the rule's minDuration.
 *
 * Flapping (Nagios-style): a condition that comes back within `flapWindow` of its last clear is
 * flapping; that incident stays raised until the condition has been absent for a whole
 * `flapWindow`, counting its episodes, so a toggling picture is one incident, not dozens.
 */
import type { DefectType } from '../../shared/events.js';
import type { Thresholds } from '../../shared/thresholds.js';

export interface AlarmTiming {
  holdOff: number;
  bridge: number;
  clearAfter: number;
  flapWindow: number;
}

/** Shortest flap window, seconds of media time. */
const MIN_FLAP_WINDOW = 10;

const FLICKER: Record<DefectType, { bridge: number; clearAfter: number }> = {
  'video.black': { bridge: 0.1, clearAfter: 0.5 },
  // Any real change breaks a freeze: encoder noise is already below the block threshold.
  'video.freeze': { bridge: 0, clearAfter: 0.2 },
  'video.corruption': { bridge: 0.5, clearAfter: 1 },
  'audio.silence': { bridge: 0.1, clearAfter: 0.5 },
  'audio.clipping': { bridge: 0.3, clearAfter: 1 },
  'audio.loudness': { bridge: 1, clearAfter: 3 },
  'av.desync': { bridge: 3, clearAfter: 3 },
  'stream.loss': { bridge: 0, clearAfter: 0 },
  'audio.missing': { bridge: 0, clearAfter: 0 },
  'video.missing': { bridge: 0, clearAfter: 0 },
};

const HOLD_OFF: Record<DefectType, (t: Thresholds) => number> = {
  'video.black': (t) => t.black.minDuration,
  'video.freeze': (t) => t.freeze.minDuration,
  'video.corruption': (t) => t.corruption.minDuration,
  'audio.silence': (t) => t.silence.minDuration,
  'audio.clipping': (t) => t.clipping.minDuration,
  'audio.loudness': (t) => t.loudness.minDuration,
  'av.desync': (t) => t.desync.minDuration,
  'stream.loss': (t) => t.loss.minDuration,
  'audio.missing': () => 0,
  'video.missing': () => 0,
};

/** The alarm timing of one type under a stream's thresholds. */
export function alarmTiming(type: DefectType, thresholds: Thresholds): AlarmTiming {
  const holdOff = HOLD_OFF[type](thresholds);
  const flicker = FLICKER[type];
  const flapWindow = Math.max(MIN_FLAP_WINDOW, 3 * (holdOff + flicker.clearAfter));
  return { holdOff, ...flicker, flapWindow };
}
