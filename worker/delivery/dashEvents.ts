/**
 * Ad breaks a DASH MPD signals in its Periods' EventStreams (SCTE 214-1), put on the segments they
 * fall in, so that a break takes effect when the decoder reaches it, as in HLS (AdBreaks.fetched):
 *
 * - `urn:scte:scte35:2014:xml+bin`: the splice_info_section in base64 (`Signal/Binary`), decoded
 *   and CRC-checked by worker/transport/scte35.ts;
 * - `urn:scte:scte35:2013:xml`: the cue written as XML (`SpliceInsert@outOfNetworkIndicator`,
 *   `BreakDuration@duration`; `TimeSignal` with `SegmentationDescriptor@segmentationTypeId`).
 *
 * An event with a duration ends its break when the duration runs out (no return cue is sent).
 * InbandEventStream (`emsg` boxes inside fMP4 segments) is not read.
 */
import {
  breakSignalOf,
  decodeCueText,
  parseSpliceInfo,
  ScteError,
  SEGMENT_ENDS,
  SEGMENT_STARTS,
} from '../transport/scte35.js';
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

function durationOf(event: MpdEvent, fallback?: number): { duration?: number; autoReturn?: boolean } {
  const duration = event.end > event.start ? event.end - event.start : fallback;
  return duration ? { duration, autoReturn: true } : {};
}

function binaryCue(event: MpdEvent): SegmentCue | null {
  const id = event.id ? { id: event.id } : {};
  const text = event.messageData?.trim();
  if (!text) return null;
  try {
    const signal = breakSignalOf(parseSpliceInfo(decodeCueText(text)));
    if (!signal) return null;
    if (signal.kind === 'in') return { kind: 'in', tag: TAG, ...id };
    return { kind: 'out', tag: TAG, ...id, ...durationOf(event, signal.duration) };
  } catch (e) {
    if (!(e instanceof ScteError)) throw e;
    return { kind: 'invalid', tag: TAG, reason: e.reason, ...id };
  }
}

function xmlCue(event: MpdEvent, node: EventNode | undefined): SegmentCue | null {
  if (!node) return null;
  const id = event.id ? { id: event.id } : {};
  const all = Array.from(node.getElementsByTagName('*'));
  const named = (name: string) => all.filter((e) => (e.localName ?? '') === name);
  const insert = named('SpliceInsert')[0];
  if (insert && insert.getAttribute('spliceEventCancelIndicator') !== 'true') {
    if (insert.getAttribute('outOfNetworkIndicator') !== 'true') return { kind: 'in', tag: TAG, ...id };
    const ticks = Number(named('BreakDuration')[0]?.getAttribute('duration') ?? Number.NaN);
    return {
      kind: 'out',
      tag: TAG,
      ...id,
      ...durationOf(event, Number.isFinite(ticks) ? ticks / 90_000 : undefined),
    };
  }
  for (const d of named('SegmentationDescriptor')) {
    if (d.getAttribute('segmentationEventCancelIndicator') === 'true') continue;
    const type = Number(d.getAttribute('segmentationTypeId'));
    const ticks = Number(d.getAttribute('segmentationDuration') ?? Number.NaN);
    if (SEGMENT_STARTS.has(type))
      return {
        kind: 'out',
        tag: TAG,
        ...id,
        ...durationOf(event, Number.isFinite(ticks) ? ticks / 90_000 : undefined),
      };
    if (SEGMENT_ENDS.has(type)) return { kind: 'in', tag: TAG, ...id };
  }
  return null;
}
