/**
 * How each type's alarm tolerates flicker, in seconds of media time: `bridge` is the longest
 * lapse that does not break a pending condition, `clearAfter` how long a raised condition must be
 * absent before the alarm clears. Hold-off (how long before raising) is the rule's minDuration.
 *
 * Flapping (Nagios-style): an incident whose condition comes and goes (two or more episodes), or
 * that comes back within `flapWindow` of the last incident's clear, is flapping; it stays raised
 * until the condition has been absent for a whole `flapWindow`, counting its episodes, so a
 * toggling picture is one incident, not dozens.
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
const MIN_FLAP_WINDOW = 5;

/** A clear delay is a fixed number of seconds, or a figure of the stream's thresholds. */
type ClearAfter = number | ((t: Thresholds) => number);

/** Transport errors come in bursts: an incident ends after a quiet spell of the stream's choosing. */
const TRANSPORT = { bridge: 0, clearAfter: (t: Thresholds) => t.transport.quietSeconds };

/** Delivery faults are judged on each playlist load or segment: raised at once, ended by quiet. */
const DELIVERY = { bridge: 0, clearAfter: (t: Thresholds) => t.delivery.quietSeconds };

/** A cue is judged when it arrives: raised at once, ended by quiet. */
const SCTE35 = { bridge: 0, clearAfter: (t: Thresholds) => t.scte35.quietSeconds };

const FLICKER: Record<DefectType, { bridge: number; clearAfter: ClearAfter }> = {
  // A raised picture or sound condition must be gone for twice its hold-off before it clears: a
  // condition that toggles faster than its rule stays one incident (and is marked flapping).
  'video.black': { bridge: 0.1, clearAfter: 2 },
  // Any real change breaks a pending freeze: encoder noise is already below the block threshold.
  'video.freeze': { bridge: 0, clearAfter: 2 },
  'video.corruption': { bridge: 0.5, clearAfter: 1 },
  'audio.silence': { bridge: 0.1, clearAfter: 2 },
  'audio.clipping': { bridge: 0.3, clearAfter: 1 },
  'audio.loudness': { bridge: 1, clearAfter: 3 },
  'av.desync': { bridge: 3, clearAfter: 3 },
  'stream.loss': { bridge: 0, clearAfter: 0 },
  'stream.unmonitored': { bridge: 0, clearAfter: 0 },
  'audio.missing': { bridge: 0, clearAfter: 0 },
  'audio.channel_silence': { bridge: 0.2, clearAfter: 2 },
  'audio.phase': { bridge: 0.5, clearAfter: 2 },
  // Overshoots come with the loud passages of a programme: one incident per passage.
  'audio.true_peak': { bridge: 1, clearAfter: 5 },
  'captions.missing': { bridge: 1, clearAfter: 2 },
  'video.missing': { bridge: 0, clearAfter: 0 },
  'transport.sync': TRANSPORT,
  'transport.pat': TRANSPORT,
  'transport.pmt': TRANSPORT,
  'transport.continuity': TRANSPORT,
  'transport.pid': TRANSPORT,
  'transport.pcr': TRANSPORT,
  'transport.error': TRANSPORT,
  'delivery.playlist_stale': DELIVERY,
  'delivery.sequence': DELIVERY,
  'delivery.segment_error': DELIVERY,
  'delivery.segment_duration': DELIVERY,
  'delivery.variant_missing': DELIVERY,
  'delivery.manifest_invalid': DELIVERY,
  // Reported as the cues say (worker/delivery/AdBreaks.ts), not through a tracker.
  'ad.break': { bridge: 0, clearAfter: 0 },
  // Raised before black, freeze and silence can be (their hold-offs are longer): it holds them back.
  'video.slate': { bridge: 0.2, clearAfter: 1 },
  'scte35.preroll': SCTE35,
  'scte35.overrun': SCTE35,
  'scte35.orphan_return': SCTE35,
  'scte35.malformed': SCTE35,
  'scte35.cues_stopped': SCTE35,
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
  'stream.unmonitored': () => 0,
  'audio.missing': () => 0,
  'audio.channel_silence': (t) => t.channels.minDuration,
  'audio.phase': (t) => t.channels.phaseDuration,
  'audio.true_peak': (t) => t.truePeak.minDuration,
  'captions.missing': (t) => t.captions.minDuration,
  'video.missing': () => 0,
  'transport.sync': () => 0,
  'transport.pat': () => 0,
  'transport.pmt': () => 0,
  'transport.continuity': () => 0,
  'transport.pid': () => 0,
  'transport.pcr': () => 0,
  'transport.error': () => 0,
  'delivery.playlist_stale': () => 0,
  'delivery.sequence': () => 0,
  'delivery.segment_error': () => 0,
  'delivery.segment_duration': () => 0,
  'delivery.variant_missing': () => 0,
  'delivery.manifest_invalid': () => 0,
  'ad.break': () => 0,
  'video.slate': () => 0.5,
  'scte35.preroll': () => 0,
  'scte35.overrun': () => 0,
  'scte35.orphan_return': () => 0,
  'scte35.malformed': () => 0,
  'scte35.cues_stopped': () => 0,
};

/** The alarm timing of one type under a stream's thresholds. */
export function alarmTiming(type: DefectType, thresholds: Thresholds): AlarmTiming {
  const holdOff = HOLD_OFF[type](thresholds);
  const { bridge, clearAfter: rule } = FLICKER[type];
  const clearAfter = typeof rule === 'function' ? rule(thresholds) : rule;
  // Comes back sooner than twice its own rule (hold-off and clear): faster than the rule can tell
  // incidents apart. A 3 s black every 12 s stays separate incidents.
  const flapWindow = Math.max(MIN_FLAP_WINDOW, 2 * (holdOff + clearAfter));
  return { holdOff, bridge, clearAfter, flapWindow };
}
