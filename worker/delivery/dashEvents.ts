/**
 * Ad breaks a DASH MPD signals in its Periods' EventStreams (SCTE 214-1), put on the segments they
 * fall in, so that a break takes effect when the decoder reaches it, as in HLS (AdBreaks.fetched):
 *
 * - `urn:scte:scte35:2014:xml+bin`: the splice_info_section in base64 (`Signal/Binary`), decoded
 *   and CRC-checked by worker/transport/scte35.ts;
 * - `urn:scte:scte35:2013:xml`: the cue written as XML (`SpliceInsert@outOfNetworkIndicator`,
 *   `BreakDuration@duration`; `TimeSignal` with `SegmentationDescriptor@segmentationTypeId`).
 *
 * An event with a duration ends its break when the duration runs out (no return cue is sent), as
 * does a cue that sets auto_return (sectionCue.ts).
 * In-band events (`emsg` boxes inside fMP4 segments) are emsg.ts's.
 */
import { decodeCueText, SEGMENT_ENDS, SEGMENT_STARTS } from '../transport/scte35.js';
import { sectionCue } from './sectionCue.js';
import type { SegmentCue, SegmentInfo } from './segments.js';

const BINARY = 'urn:scte:scte35:2014:xml+bin';
const XML = 'urn:scte:scte35:2013:xml';

/** One Event of an EventStream as mpd-parser lists them (seconds on the MPD's timeline). */
export interface MpdEvent {
  schemeIdUri: string;
  id?: string;
  start: number;
  end: number;
  messageData?: string;
}

/** The DOM of an Event (xmldom): what the XML scheme needs of it. */
export interface EventNode {
  getElementsByTagName(
    name: string,
  ): ArrayLike<{ localName?: string; getAttribute(name: string): string | null }>;
}

/** A break cue at a time of the MPD's timeline. */
export interface TimedCue {
  start: number;
  cue: SegmentCue;
}

/** The break cues among `events`; `nodes[i]` is the DOM of `events[i]` (same document order). */
export function breakCues(
  events: readonly MpdEvent[],
  nodes: readonly (EventNode | undefined)[],
): TimedCue[] {
  const cues: TimedCue[] = [];
  events.forEach((event, i) => {
    const cue =
      event.schemeIdUri === BINARY
        ? binaryCue(event)
        : event.schemeIdUri === XML
          ? xmlCue(event, nodes[i])
          : null;
    if (cue) cues.push({ start: event.start, cue });
  });
  return cues;
}

/** Puts each cue on the segment it falls in (a segment keeps the first). */
export function attachCues(segments: SegmentInfo[], cues: readonly TimedCue[]): void {
  if (!cues.length) return;
  for (const s of segments) {
    if (s.start === undefined || s.cue) continue;
    const end = s.start + s.duration;
    const hit = cues.find((c) => c.start >= s.start! - 0.001 && c.start < end - 0.001);
    if (hit) s.cue = hit.cue;
  }
}

const TAG = 'DASH EventStream';

/** An Event's duration, seconds, when it gives one. */
function eventDuration(event: MpdEvent): number | undefined {
  return event.end > event.start ? event.end - event.start : undefined;
}

function binaryCue(event: MpdEvent): SegmentCue | null {
  const text = event.messageData?.trim();
  if (!text) return null;
  return sectionCue(TAG, () => decodeCueText(text), { id: event.id, duration: eventDuration(event) }) ?? null;
}

/** An out cue of the XML scheme: the Event's duration or the cue's own, ending by itself as sectionCue's rule says. */
function xmlOut(event: MpdEvent, ticks: string | null, autoReturn: boolean): SegmentCue {
  const own = Number(ticks ?? Number.NaN) / 90_000;
  const carried = eventDuration(event);
  const duration = carried ?? (Number.isFinite(own) ? own : undefined);
  return {
    kind: 'out',
    tag: TAG,
    ...(event.id ? { id: event.id } : {}),
    ...(duration ? { duration, ...(carried || autoReturn ? { autoReturn: true } : {}) } : {}),
  };
}

function xmlCue(event: MpdEvent, node: EventNode | undefined): SegmentCue | null {
  if (!node) return null;
  const id = event.id ? { id: event.id } : {};
  const all = Array.from(node.getElementsByTagName('*'));
  const named = (name: string) => all.filter((e) => (e.localName ?? '') === name);
  const insert = named('SpliceInsert')[0];
  if (insert && insert.getAttribute('spliceEventCancelIndicator') !== 'true') {
    if (insert.getAttribute('outOfNetworkIndicator') !== 'true') return { kind: 'in', tag: TAG, ...id };
    const breakDuration = named('BreakDuration')[0];
    return xmlOut(
      event,
      breakDuration?.getAttribute('duration') ?? null,
      breakDuration?.getAttribute('autoReturn') === 'true',
    );
  }
  for (const d of named('SegmentationDescriptor')) {
    if (d.getAttribute('segmentationEventCancelIndicator') === 'true') continue;
    const type = Number(d.getAttribute('segmentationTypeId'));
    if (SEGMENT_STARTS.has(type)) return xmlOut(event, d.getAttribute('segmentationDuration'), false);
    if (SEGMENT_ENDS.has(type)) return { kind: 'in', tag: TAG, ...id };
  }
  return null;
}
