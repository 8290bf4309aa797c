/**
 * SCTE-35 ad breaks in a DASH MPD's EventStreams (SCTE 214-1), both schemes, put on the segments
 * they fall in (worker/delivery/dashEvents.ts), and the break they make when the decoder fetches
 * that segment; in-band events (`emsg` boxes of an fMP4 segment, worker/delivery/emsg.ts).
 */
import { describe, expect, it } from 'vitest';
import type { DefectEvent } from '../../../shared/events.js';
import { AdBreaks } from '../../../worker/delivery/AdBreaks.js';
import { parseMpd } from '../../../worker/delivery/dashManifest.js';
import { inbandCue, readEmsg } from '../../../worker/delivery/emsg.js';

/** SCTE 35 §14.2: splice_insert, out of network, 60.3 s, auto return. */
const INSERT = '/DAvAAAAAAAA///wFAVIAACPf+/+c2nALv4AUsz1AAAAAAAKAAhDVUVJAAABNWLbowo=';
/** The same with one base64 digit changed: its CRC-32 no longer matches. */
const DAMAGED = `${INSERT.slice(0, 20)}${INSERT[20] === 'A' ? 'B' : 'A'}${INSERT.slice(21)}`;

function mpd(events: string): string {
  // Twelve 2 s segments from t = 0; events at 4 s (binary, 30 s), 10 s (XML in), 14 s (XML out,
  // BreakDuration 20 s), 18 s (a damaged binary cue).
  return `<?xml version="1.0" encoding="utf-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:scte35="http://www.scte.org/schemas/35/2016" type="static" mediaPresentationDuration="PT24S" profiles="urn:mpeg:dash:profile:isoff-live:2011" minBufferTime="PT2S">
  <Period id="p0" start="PT0S">
    ${events}
    <AdaptationSet contentType="video" mimeType="video/mp4">
      <SegmentTemplate timescale="1" initialization="init.mp4" media="seg-$Number$.m4s" startNumber="1"><SegmentTimeline><S t="0" d="2" r="11"/></SegmentTimeline></SegmentTemplate>
      <Representation id="v0" bandwidth="800000" width="640" height="360"/>
    </AdaptationSet>
  </Period>
</MPD>`;
}

const EVENTS = `<EventStream schemeIdUri="urn:scte:scte35:2014:xml+bin" timescale="90000">
      <Event presentationTime="360000" duration="2700000" id="101"><scte35:Signal><scte35:Binary>${INSERT}</scte35:Binary></scte35:Signal></Event>
      <Event presentationTime="1620000" id="104"><scte35:Signal><scte35:Binary>${DAMAGED}</scte35:Binary></scte35:Signal></Event>
    </EventStream>
    <EventStream schemeIdUri="urn:scte:scte35:2013:xml" timescale="1">
      <Event presentationTime="10" id="102"><scte35:SpliceInfoSection><scte35:SpliceInsert spliceEventId="5" outOfNetworkIndicator="false"/></scte35:SpliceInfoSection></Event>
      <Event presentationTime="14" id="103"><scte35:SpliceInfoSection><scte35:SpliceInsert spliceEventId="6" outOfNetworkIndicator="true"><scte35:BreakDuration autoReturn="true" duration="1800000"/></scte35:SpliceInsert></scte35:SpliceInfoSection></Event>
    </EventStream>`;

describe('SCTE-35 in DASH EventStreams', () => {
  it('puts each cue on the segment it falls in: binary and XML schemes, a damaged cue said as such', () => {
    const manifest = parseMpd(mpd(EVENTS), 'http://origin.example/live.mpd');
    const cued = manifest.video[0].segments.filter((s) => s.cue).map((s) => [s.msn, s.cue]);
    expect(cued).toEqual([
      [3, { kind: 'out', tag: 'DASH EventStream', id: '101', duration: 30, autoReturn: true }],
      [6, { kind: 'in', tag: 'DASH EventStream', id: '102' }],
      [8, { kind: 'out', tag: 'DASH EventStream', id: '103', duration: 20, autoReturn: true }],
      [10, { kind: 'invalid', tag: 'DASH EventStream', id: '104', reason: 'crc' }],
    ]);
    // An MPD without events has no cue.
    expect(parseMpd(mpd(''), 'http://origin.example/live.mpd').video[0].segments.some((s) => s.cue)).toBe(
      false,
    );
  });

  it('opens the break when the decoder fetches the segment and ends it when its duration runs out', () => {
    const manifest = parseMpd(mpd(EVENTS), 'http://origin.example/live.mpd');
    const segments = manifest.video[0].segments;
    const clock = { mediaTime: 0 };
    const events: DefectEvent[] = [];
    const breaks = new AdBreaks('s1', clock, undefined, (e) => events.push(e));
    for (const s of segments.slice(0, 4)) {
      clock.mediaTime = s.start ?? 0;
      breaks.fetched(s, segments);
      breaks.tick();
    }
    expect(events.map((e) => [e.state, e.start, e.detail.cueId, e.detail.plannedDuration])).toEqual([
      ['raised', 4, '101', 30],
    ]);
    clock.mediaTime = 34;
    breaks.tick();
    expect(events[1]).toMatchObject({
      state: 'cleared',
      end: 34,
      detail: { returned: true, autoReturn: true },
    });
  });
});

/** An ISO BMFF box. */
function box(type: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length + 8);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body]);
}
const u32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
};
const cstring = (s: string) => Buffer.from(`${s}\0`, 'utf8');

describe('DASH in-band events (emsg)', () => {
  const section = Buffer.from(INSERT, 'base64');
  // Version 0: scheme, value, timescale, presentation_time_delta, duration, id, data.
  const v0 = (scheme: string, data: Buffer) =>
    box('emsg', u32(0), cstring(scheme), cstring(''), u32(90_000), u32(0), u32(30 * 90_000), u32(42), data);
  // Version 1: timescale, presentation_time (64 bit), duration, id, scheme, value, data.
  const v1 = box(
    'emsg',
    u32(0x01000000),
    u32(1000),
    u32(0),
    u32(5000),
    u32(0),
    u32(7),
    cstring('urn:scte:scte35:2013:bin'),
    cstring(''),
    section,
  );
  const segment = (...boxes: Buffer[]) =>
    Buffer.concat([
      box('styp', Buffer.from('msdh')),
      ...boxes,
      box('moof', Buffer.alloc(16)),
      box('mdat', Buffer.alloc(64)),
    ]);

  it("reads both versions before the first moof, and makes the SCTE-35 one the segment's cue", () => {
    const boxes = readEmsg(segment(v0('urn:example:other', Buffer.from('x')), v1));
    expect(boxes.map((b) => [b.scheme, b.id, b.duration])).toEqual([
      ['urn:example:other', 42, 30],
      ['urn:scte:scte35:2013:bin', 7, 0],
    ]);
    expect(inbandCue(segment(v0('urn:scte:scte35:2013:bin', section)))).toEqual({
      kind: 'out',
      tag: 'DASH emsg',
      id: '42',
      duration: 30,
      autoReturn: true,
    });
    const cue = inbandCue(segment(v1));
    // No duration in the box, but the cue itself sets auto_return (as on a UDP source's cue PID).
    expect(cue).toMatchObject({ kind: 'out', tag: 'DASH emsg', id: '7', autoReturn: true });
    expect(cue?.duration).toBeCloseTo(60.294, 3);
  });

  it('says a damaged cue, and ignores other schemes, boxes after the media and cut-short boxes', () => {
    const damaged = Buffer.from(section);
    damaged[12] ^= 0xff;
    expect(inbandCue(segment(v0('urn:scte:scte35:2013:bin', damaged)))).toMatchObject({
      kind: 'invalid',
      reason: 'crc',
    });
    expect(inbandCue(segment(v0('urn:example:other', section)))).toBeUndefined();
    const after = Buffer.concat([box('moof', Buffer.alloc(8)), v0('urn:scte:scte35:2013:bin', section)]);
    expect(readEmsg(after)).toEqual([]);
    const whole = segment(v0('urn:scte:scte35:2013:bin', section));
    expect(readEmsg(whole.subarray(0, 40))).toEqual([]);
  });
});
