/**
 * A break cue from a splice_info_section as a container carries it (an HLS tag, a DASH Event or
 * emsg box): what the section says of breaks, with what the container adds (an id, a duration).
 * One rule for every carrier: a break ends by itself when the container says how long it lasts or
 * the cue sets auto_return. A section that cannot be read is an `invalid` cue, with the reason.
 */
import { breakSignalOf, parseSpliceInfo, ScteError } from '../transport/scte35.js';
import type { SegmentCue } from './segments.js';

export function sectionCue(
  tag: string,
  read: () => Uint8Array,
  carried: { id?: string; duration?: number } = {},
): SegmentCue | undefined {
  let signal: ReturnType<typeof breakSignalOf>;
  try {
    signal = breakSignalOf(parseSpliceInfo(read()));
  } catch (e) {
    if (!(e instanceof ScteError)) throw e;
    return { kind: 'invalid', tag, reason: e.reason, ...(carried.id ? { id: carried.id } : {}) };
  }
  if (!signal) return undefined;
  const id = carried.id ?? String(signal.eventId);
  if (signal.kind === 'in') return { kind: 'in', tag, id };
  const duration = carried.duration || signal.duration;
  const autoReturn = Boolean(carried.duration) || signal.autoReturn === true;
  return { kind: 'out', tag, id, ...(duration ? { duration, ...(autoReturn ? { autoReturn } : {}) } : {}) };
}
