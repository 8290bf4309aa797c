/** Ad-break cues in HLS playlists (hlsPlaylist.ts) and TS segments, and the breaks they make (AdBreaks.ts). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DefectEvent } from '../../../shared/events.js';
import { resolveThresholds } from '../../../shared/thresholds.js';
import { AdBreaks } from '../../../worker/delivery/AdBreaks.js';
import { type HlsMedia, parseHls } from '../../../worker/delivery/hlsPlaylist.js';
import type { Rendition } from '../../../worker/delivery/Rendition.js';
import { readSegment, segmentCues } from '../../../worker/delivery/segmentChecks.js';
import type { CueReport } from '../../../worker/transport/cueLog.js';
import { decodeCueText, parseSpliceInfo } from '../../../worker/transport/scte35.js';
import { makeClip } from '../../helpers/clips.js';
import { spliceInsert, withCues } from '../../helpers/scte35Stream.js';

const PLAYLIST = `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:10
#EXTINF:2.0,
a.ts
#EXT-X-CUE-OUT:30
#EXTINF:2.0,
b.ts
#EXT-X-CUE-OUT-CONT:ElapsedTime=2,Duration=30
#EXTINF:2.0,
c.ts
#EXT-X-CUE-IN
#EXTINF:2.0,
d.ts
#EXT-X-PROGRAM-DATE-TIME:2026-12-05T10:00:08.000Z
#EXT-X-DATERANGE:ID="splice-7",START-DATE="2026-12-05T10:00:08.000Z",PLANNED-DURATION=60.0,SCTE35-OUT=0xFC302F000000000000FFFFF014054800008F7FEFFE7369C02EFE0052CCF500000000000A0008435545490000013562DBA30A
#EXTINF:2.0,
e.ts
#EXT-X-DATERANGE:ID="splice-7",START-DATE="2026-12-05T10:00:10.000Z",SCTE35-IN=0xFC302F000000000000FFFFF014054800008F7FEFFE7369C02EFE0052CCF500000000000A0008435545490000013562DBA30A
#EXTINF:2.0,
f.ts
`;

describe('cues in a media playlist', () => {
  it('reads EXT-X-CUE-OUT/IN and EXT-X-DATERANGE SCTE35-OUT/IN onto their segments', () => {
    const media = parseHls(PLAYLIST, 'http://origin.example/live/media.m3u8') as HlsMedia;
    expect(media.segments.map((s) => [s.uri.split('/').pop(), s.cue ?? null])).toEqual([
      ['a.ts', null],
      ['b.ts', { kind: 'out', tag: 'EXT-X-CUE-OUT', duration: 30 }],
      ['c.ts', null],
      ['d.ts', { kind: 'in', tag: 'EXT-X-CUE-IN' }],
      ['e.ts', { kind: 'out', tag: 'EXT-X-DATERANGE', id: 'splice-7', duration: 60 }],
      ['f.ts', { kind: 'in', tag: 'EXT-X-DATERANGE', id: 'splice-7' }],
    ]);
  });

  it('decodes the cue in EXT-X-SCTE35, EXT-OATCLS-SCTE35 and DATERANGE SCTE35-CMD; bytes that cannot be read are said', () => {
    // SCTE 35 §14.2 (splice_insert out, 60.3 s, auto return) and §14.1 (time_signal, placement
    // opportunity start 0x34, 307 s); the last cue's CRC-32 damaged.
    const insert = '/DAvAAAAAAAA///wFAVIAACPf+/+c2nALv4AUsz1AAAAAAAKAAhDVUVJAAABNWLbowo=';
    const timeSignal =
      '0xFC3034000000000000FFFFF00506FE72BD0050001E021C435545494800008E7FCF0001A599B00808000000002CA0A18A3402009AC9D17E';
    const damaged = `${timeSignal.slice(0, -2)}7F`;
    const playlist = `#EXTM3U
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:1
#EXT-X-SCTE35:CUE="${insert}",ID="7"
#EXTINF:2.0,
a.ts
#EXT-OATCLS-SCTE35:${insert}
#EXTINF:2.0,
b.ts
#EXT-X-PROGRAM-DATE-TIME:2026-12-05T10:00:04.000Z
#EXT-X-DATERANGE:ID="ts-1",START-DATE="2026-12-05T10:00:04.000Z",SCTE35-CMD=${timeSignal}
#EXTINF:2.0,
c.ts
#EXT-X-DATERANGE:ID="ts-2",START-DATE="2026-12-05T10:00:06.000Z",SCTE35-CMD=${damaged}
#EXTINF:2.0,
d.ts
#EXT-X-DATERANGE:ID="ts-3",START-DATE="2026-12-05T10:00:08.000Z",PLANNED-DURATION=30,SCTE35-OUT=${damaged}
#EXTINF:2.0,
e.ts
`;
    const media = parseHls(playlist, 'http://origin.example/live/media.m3u8') as HlsMedia;
    const cues = media.segments.map((s) => s.cue ?? null);
    expect(cues[0]).toMatchObject({ kind: 'out', tag: 'EXT-X-SCTE35', id: String(0x4800008f) });
    expect(cues[0]?.duration).toBeCloseTo(60.294, 3);
    expect(cues[1]).toMatchObject({ kind: 'out', tag: 'EXT-OATCLS-SCTE35' });
    expect(cues[2]).toMatchObject({ kind: 'out', tag: 'EXT-X-DATERANGE', id: 'ts-1' });
    expect(cues[2]?.duration).toBeCloseTo(307, 0);
    expect(cues[3]).toEqual({ kind: 'invalid', tag: 'EXT-X-DATERANGE', id: 'ts-2', reason: 'crc' });
    expect(cues[4]).toEqual({ kind: 'out', tag: 'EXT-X-DATERANGE', id: 'ts-3', duration: 30, reason: 'crc' });
  });
});

describe('breaks from the segments the decoder fetched', () => {
  /** A 2 s segment, with an out or in cue. */
  const seg = (msn: number, cue?: 'out' | 'in') => ({
    msn,
    uri: `s${msn}.ts`,
    duration: 2,
    discontinuity: 0,
    ...(cue ? { cue: { kind: cue, tag: cue === 'out' ? 'EXT-X-CUE-OUT' : 'EXT-X-CUE-IN' } } : {}),
  });
  const setup = () => {
    const clock = { mediaTime: 100 };
    const events: DefectEvent[] = [];
    const breaks = new AdBreaks(
      's1',
      clock,
      (t) => new Date(t * 1000),
      (e) => events.push(e),
    );
    return { clock, events, breaks };
  };

  it('raises at the out cue and clears at the in cue, with the break as it was', () => {
    const { clock, events, breaks } = setup();
    breaks.fetched({
      msn: 1,
      uri: 'b.ts',
      duration: 2,
      discontinuity: 0,
      cue: { kind: 'out', tag: 'EXT-X-CUE-OUT', duration: 30 },
    });
    clock.mediaTime = 128;
    breaks.fetched({ msn: 2, uri: 'c.ts', duration: 2, discontinuity: 0 });
    breaks.fetched({
      msn: 15,
      uri: 'd.ts',
      duration: 2,
      discontinuity: 0,
      cue: { kind: 'in', tag: 'EXT-X-CUE-IN' },
    });
    expect(events.map((e) => [e.type, e.state, e.start, e.end, e.severity])).toEqual([
      ['ad.break', 'raised', 100, null, 'info'],
      ['ad.break', 'cleared', 100, 128, 'info'],
    ]);
    expect(events[1].detail).toMatchObject({ plannedDuration: 30, returned: true, duration: 28 });
    expect(events[0].dedupKey).toBe(events[1].dedupKey);
  });

  it('ends a break that runs past its planned duration without an in cue', () => {
    const { clock, events, breaks } = setup();
    breaks.fetched({
      msn: 1,
      uri: 'b.ts',
      duration: 2,
      discontinuity: 0,
      cue: { kind: 'out', tag: 'EXT-X-CUE-OUT', duration: 30 },
    });
    clock.mediaTime = 131;
    breaks.tick();
    expect(events).toHaveLength(1);
    clock.mediaTime = 132.5;
    breaks.tick();
    expect(events.map((e) => [e.state, e.detail.returned])).toEqual([
      ['raised', undefined],
      ['cleared', false],
    ]);
  });

  it('takes the cues of segments the decoder skipped (a restart at the live edge), in order', () => {
    const { events, breaks } = setup();
    const listed = [
      { msn: 5, uri: 'e.ts', duration: 2, discontinuity: 0 },
      {
        msn: 6,
        uri: 'f.ts',
        duration: 2,
        discontinuity: 0,
        cue: { kind: 'out' as const, tag: 'EXT-X-CUE-OUT' },
      },
      { msn: 7, uri: 'g.ts', duration: 2, discontinuity: 0 },
      {
        msn: 8,
        uri: 'h.ts',
        duration: 2,
        discontinuity: 0,
        cue: { kind: 'in' as const, tag: 'EXT-X-CUE-IN' },
      },
      { msn: 9, uri: 'i.ts', duration: 2, discontinuity: 0 },
    ];
    breaks.fetched(listed[0], listed);
    breaks.fetched(listed[1], listed);
    expect(events.map((e) => e.state)).toEqual(['raised']);
    // The decoder re-opened at the live edge: 7 and 8 never fetched; the return still counts.
    breaks.fetched(listed[4], listed);
    breaks.fetched(listed[1], listed);
    expect(events.map((e) => [e.state, e.detail.returned])).toEqual([
      ['raised', undefined],
      ['cleared', true],
    ]);
  });

  it('joining mid-break opens it; a break already over when the monitor joins is not reported', () => {
    const inside = setup();
    inside.breaks.fetched(seg(9), [seg(7, 'out'), seg(8), seg(9)]);
    expect(inside.events.map((e) => e.state)).toEqual(['raised']);
    const after = setup();
    after.breaks.fetched(seg(9), [seg(6, 'out'), seg(8, 'in'), seg(9)]);
    expect(after.events).toEqual([]);
  });

  it("dates a segment's cues where the segment starts, and ends the break when the decoded media reaches the return", () => {
    const { clock, events, breaks } = setup();
    // The decoder fetches ahead of what has been decoded (100 s): the out segment starts at 102.
    breaks.fetched(seg(10), [seg(10)], 100);
    breaks.fetched(seg(11, 'out'), [seg(10), seg(11, 'out')], 102);
    expect(events.map((e) => [e.state, e.start])).toEqual([['raised', 102]]);
    // The return's segment fetched while the media decoded is at 110; it starts at 112.
    clock.mediaTime = 110;
    breaks.fetched(seg(16, 'in'), [seg(14), seg(15), seg(16, 'in')], 112);
    breaks.tick();
    expect(events).toHaveLength(1);
    clock.mediaTime = 112.04;
    breaks.tick();
    expect(events.map((e) => [e.state, e.start, e.end])).toEqual([
      ['raised', 102, null],
      ['cleared', 102, 112],
    ]);
    expect(events[1].detail).toMatchObject({ returned: true, returnSegment: 's16.ts', duration: 10 });
  });

  it("counts a skipped cue segment back from the fetched one's start; a start far from the decoded media is not believed", () => {
    const skipped = setup();
    skipped.breaks.fetched(seg(4), [seg(4)], 96);
    // 5 (the out cue) and 6 never fetched: the break started two segments before 7's start (106).
    skipped.breaks.fetched(seg(7), [seg(5, 'out'), seg(6), seg(7)], 106);
    expect(skipped.events.map((e) => e.start)).toEqual([102]);
    // A timestamp wrap (or a new epoch) puts the segment hours away: dated at the decoded media.
    const wrapped = setup();
    wrapped.breaks.fetched(seg(4), [seg(4)], 100);
    wrapped.breaks.fetched(seg(5, 'out'), [seg(4), seg(5, 'out')], 95_443.7);
    expect(wrapped.events.map((e) => e.start)).toEqual([100]);
  });

  it('a return before the next break starts ends the open one there, and the next break is reported', () => {
    const { events, breaks } = setup();
    breaks.fetched(seg(1, 'out'), [seg(1, 'out')], 100);
    // Back at 104 and out again at 106, both fetched before the decoded media (100) got there.
    breaks.fetched(seg(4, 'out'), [seg(1, 'out'), seg(2), seg(3, 'in'), seg(4, 'out')], 106);
    expect(events.map((e) => [e.state, e.start, e.end])).toEqual([
      ['raised', 100, null],
      ['cleared', 100, 104],
      ['raised', 106, null],
    ]);
  });

  it('a return cue without a break, or a second out cue within one, changes nothing', () => {
    const { events, breaks } = setup();
    breaks.fetched({
      msn: 1,
      uri: 'a.ts',
      duration: 2,
      discontinuity: 0,
      cue: { kind: 'in', tag: 'EXT-X-CUE-IN' },
    });
    breaks.fetched({
      msn: 2,
      uri: 'b.ts',
      duration: 2,
      discontinuity: 0,
      cue: { kind: 'out', tag: 'EXT-X-CUE-OUT' },
    });
    breaks.fetched({
      msn: 3,
      uri: 'c.ts',
      duration: 2,
      discontinuity: 0,
      cue: { kind: 'out', tag: 'EXT-X-CUE-OUT' },
    });
    expect(events.map((e) => e.state)).toEqual(['raised']);
  });
});

describe('breaks from SCTE-35 cues in a transport stream', () => {
  const insert = (outOfNetwork: boolean, pts: number, duration?: number): CueReport => ({
    atMs: 0,
    cue: {
      commandType: 5,
      command: 'splice_insert',
      ptsAdjustment: 0,
      tier: 0xfff,
      spliceTime: pts,
      insert: {
        eventId: 7,
        cancelled: false,
        outOfNetwork,
        immediate: false,
        ...(duration ? { duration, autoReturn: true } : {}),
        uniqueProgramId: 1,
        availNum: 0,
        availsExpected: 0,
      },
      segmentation: [],
    },
  });

  it('opens at the out splice time and closes when the media reaches the return splice time', () => {
    const clock = { mediaTime: 10 };
    const events: DefectEvent[] = [];
    const breaks = new AdBreaks('s1', clock, undefined, (e) => events.push(e));
    // Media time = PTS − 1000 here; cues arrive 4 s ahead of their splice (pre-roll).
    const place = (pts: number) => pts - 1000;
    breaks.spliced([insert(true, 1014, 10)], place);
    expect(events.map((e) => [e.state, e.start, e.detail.plannedDuration])).toEqual([['raised', 14, 10]]);
    clock.mediaTime = 20;
    breaks.spliced([insert(false, 1024)], place);
    expect(events).toHaveLength(1);
    clock.mediaTime = 23.9;
    breaks.tick();
    expect(events).toHaveLength(1);
    clock.mediaTime = 24.04;
    breaks.tick();
    expect(events.map((e) => [e.state, e.end, e.detail.returned, e.detail.cueId])).toEqual([
      ['raised', null, undefined, 7],
      ['cleared', 24, true, 7],
    ]);
  });

  it('reads time_signal segmentation starts and ends (the §14.1 and §14.3 samples)', () => {
    const clock = { mediaTime: 0 };
    const events: DefectEvent[] = [];
    const breaks = new AdBreaks('s1', clock, undefined, (e) => events.push(e));
    const start = parseSpliceInfo(
      decodeCueText('/DA0AAAAAAAA///wBQb+cr0AUAAeAhxDVUVJSAAAjn/PAAGlmbAICAAAAAAsoKGKNAIAmsnRfg=='),
    );
    const end = parseSpliceInfo(
      decodeCueText('/DAvAAAAAAAA///wBQb+dGKQoAAZAhdDVUVJSAAAjn+fCAgAAAAALKChijUCAKnMZ1g='),
    );
    const place = (pts: number) => pts - (start.spliceTime ?? 0);
    breaks.spliced([{ atMs: 0, cue: start }], place);
    clock.mediaTime = place(end.spliceTime ?? 0) + 0.1;
    breaks.spliced([{ atMs: 0, cue: end }], place);
    expect(events.map((e) => [e.state, e.detail.segmentationType, e.detail.plannedDuration ?? null])).toEqual(
      [
        ['raised', 0x34, 307],
        ['cleared', 0x34, 307],
      ],
    );
    expect(events[1].detail.returned).toBe(true);
  });
});

describe("SCTE-35 in the decoded rendition's TS segments (HLS)", () => {
  it('reads the cue PID of a segment and opens the break at its splice time, unless the playlist has cue tags', () => {
    const clip = join(mkdtempSync(join(tmpdir(), 'streamqc-inband-')), 'seg.ts');
    makeClip(clip, 4);
    // A splice_insert out at 3 s for 20 s, sent at 1 s of the segment.
    const segment = withCues(clip, [
      { sendAt: 1, section: (first) => spliceInsert(9, true, first + 3 * 90_000, 20 * 90_000) },
    ]);
    const rendition = { transport: [], ts: null, tsNext: -1, targetDuration: 4 } as unknown as Rendition;
    readSegment(
      rendition,
      { msn: 1, uri: 'seg.ts', duration: 4, discontinuity: 0 },
      segment,
      resolveThresholds({}),
    );
    const cues = segmentCues(rendition);
    expect(cues.map((c) => c.cue?.insert?.eventId)).toEqual([9]);
    const run = (playlistTags: boolean) => {
      const clock = { mediaTime: 0 };
      const events: DefectEvent[] = [];
      const breaks = new AdBreaks('s1', clock, undefined, (e) => events.push(e));
      if (playlistTags)
        breaks.fetched({
          msn: 1,
          uri: 'seg.ts',
          duration: 4,
          discontinuity: 0,
          cue: { kind: 'in', tag: 'EXT-X-CUE-IN' },
        });
      // Media time = seconds since the segment's first PTS.
      const first = cues[0].cue!.spliceTime! - 3;
      breaks.inBand(cues, (pts) => pts - first);
      return events;
    };
    expect(run(false).map((e) => [e.state, e.start, e.detail.cueId])).toEqual([['raised', 3, 9]]);
    expect(run(true)).toEqual([]);
  });
});
