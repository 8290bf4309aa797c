/**
 * The SCTE-35 checks (worker/delivery/CueChecks.ts) on real cue bytes: splice_info_sections made
 * with their CRC-32, read by the cue log the transport analyzer keeps, followed by AdBreaks, judged
 * into the stream's own alarm tracker. Each check is raised once and cleared once.
 */
import { describe, expect, it } from 'vitest';
import { DEFECT_TYPES, type DefectEvent, type DefectType, isCueCheckType } from '../../../shared/events.js';
import { resolveThresholds } from '../../../shared/thresholds.js';
import { AlarmTracker } from '../../../worker/alarms/AlarmTracker.js';
import { adBreaksFor } from '../../../worker/delivery/AdBreaks.js';
import { CueLog } from '../../../worker/transport/cueLog.js';
import { spliceInsert, spliceNull } from '../../helpers/scte35Stream.js';

const CHECKS = DEFECT_TYPES.filter(isCueCheckType);
/** Media time = PTS seconds − 1000 in these streams. */
const PTS0 = 1000 * 90_000;
const place = (pts: number) => pts - 1000;

/** A stream's cue path: cue bytes in at a media and wall time, events out. */
function cueStream(types: readonly DefectType[] = ['ad.break', ...CHECKS]) {
  const thresholds = resolveThresholds({ scte35: { quietSeconds: 5 } });
  const clock = { mediaTime: 0 };
  let wallMs = 1_700_000_000_000;
  const events: DefectEvent[] = [];
  const tracker = new AlarmTracker({ streamId: 's1', thresholds, onEvent: (e) => events.push(e) });
  const breaks = adBreaksFor(
    types,
    thresholds,
    's1',
    clock,
    undefined,
    (e) => events.push(e),
    (o) => tracker.observe(o),
  )!;
  const log = new CueLog();
  return {
    events,
    /** Cue sections arriving now. */
    send(...sections: Buffer[]) {
      for (const s of sections) log.section(s, wallMs);
      breaks.spliced(log.take(), place);
    },
    /** Media and wall time go on `seconds`, ticking every half second as a pipeline does. */
    play(seconds: number) {
      for (let i = 0; i < seconds * 2; i++) {
        clock.mediaTime += 0.5;
        wallMs += 500;
        breaks.tick(wallMs);
      }
    },
    at: () => clock.mediaTime,
    summary: () => events.map((e) => `${e.state} ${e.type} ${e.state === 'raised' ? e.start : e.end}`),
  };
}

const ticks = (mediaTime: number) => PTS0 + Math.round(mediaTime * 90_000);

describe('SCTE-35 checks', () => {
  it('scte35.preroll: an out cue 1 s ahead of its splice, not one 4 s ahead', () => {
    const s = cueStream();
    s.play(10);
    s.send(spliceInsert(1, true, ticks(14), 5 * 90_000));
    s.play(10); // the break 14–19 (auto return)
    s.send(spliceInsert(2, true, ticks(s.at() + 1), 5 * 90_000));
    s.play(15);
    const preroll = s.events.filter((e) => e.type === 'scte35.preroll');
    expect(
      preroll.map((e) => [e.state, e.state === 'raised' ? e.start : e.end]),
      s.summary().join('\n'),
    ).toEqual([
      ['raised', 20],
      ['cleared', 20.5],
    ]);
    expect(preroll[0].detail).toMatchObject({ prerollSeconds: 1, minPreroll: 4, cueId: '2' });
    // Both breaks are reported; the first ended where it was planned to, by itself.
    const breaks = s.events.filter((e) => e.type === 'ad.break' && e.state === 'cleared');
    expect(breaks.map((e) => [e.start, e.end, e.detail.returned, e.detail.autoReturn])).toEqual([
      [14, 19, true, true],
      [21, 26, true, true],
    ]);
  });

  it('scte35.overrun: a break without automatic return past its planned end, until its late return', () => {
    const s = cueStream();
    s.send(spliceInsert(7, true, ticks(5), 10 * 90_000, false));
    s.play(20); // planned end 15, tolerance 2: overrun from 17
    const raised = s.events.find((e) => e.type === 'scte35.overrun');
    expect(raised?.state, s.summary().join('\n')).toBe('raised');
    expect(raised?.start).toBeGreaterThanOrEqual(17);
    expect(raised?.detail).toMatchObject({ cueId: '7', plannedDuration: 10, breakStart: 5 });
    const ended = s.events.find((e) => e.type === 'ad.break' && e.state === 'cleared');
    expect(ended?.detail.returned).toBe(false);
    // The return comes late: the overrun is over, and it is not a return without a break.
    s.send(spliceInsert(7, false, ticks(s.at() + 4)));
    s.play(10);
    expect(
      s.events.filter((e) => e.type.startsWith('scte35.')).map((e) => `${e.state} ${e.type}`),
      s.summary().join('\n'),
    ).toEqual(['raised scte35.overrun', 'cleared scte35.overrun']);
  });

  it('scte35.orphan_return: a return with no break open, once a break has ended here', () => {
    const s = cueStream();
    // Right after joining, a return may end a break that began before: not judged.
    s.send(spliceInsert(3, false, ticks(4)));
    s.play(5);
    s.send(spliceInsert(4, true, ticks(9), 3 * 90_000));
    s.play(10);
    s.send(spliceInsert(5, false, ticks(s.at() + 4)));
    s.play(10);
    expect(
      s.events
        .filter((e) => e.type.startsWith('scte35.'))
        .map((e) => [e.state, e.type, e.state === 'raised' ? e.start : e.end]),
      s.summary().join('\n'),
    ).toEqual([
      ['raised', 'scte35.orphan_return', 15],
      ['cleared', 'scte35.orphan_return', 15.5],
    ]);
  });

  it('scte35.malformed: a cue whose CRC-32 is wrong, with the reason', () => {
    const s = cueStream();
    s.play(2);
    const damaged = spliceInsert(1, true, ticks(10), 5 * 90_000);
    damaged[20] ^= 0x01;
    s.send(damaged);
    s.play(10);
    const malformed = s.events.filter((e) => e.type === 'scte35.malformed');
    expect(
      malformed.map((e) => e.state),
      s.summary().join('\n'),
    ).toEqual(['raised', 'cleared']);
    expect(malformed[0].detail.reason).toBe('crc');
    // A cue that cannot be trusted opens no break.
    expect(s.events.some((e) => e.type === 'ad.break')).toBe(false);
  });

  it('scte35.cues_stopped: heartbeats every 2 s, then none for longer than 3 × that (and 10 s)', () => {
    const s = cueStream();
    for (let i = 0; i < 5; i++) {
      s.send(spliceNull());
      s.play(2);
    }
    s.play(8); // 10 s since the last heartbeat: not yet
    expect(s.events, s.summary().join('\n')).toEqual([]);
    s.play(4);
    expect(s.summary()).toEqual(['raised scte35.cues_stopped 18']);
    expect(s.events[0].detail).toMatchObject({ limitSeconds: 10 });
    s.send(spliceNull());
    s.play(8);
    expect(s.summary()).toEqual(['raised scte35.cues_stopped 18', 'cleared scte35.cues_stopped 22']);
  });

  it('judges nothing of a stream that runs none of the checks, and reports no break without ad.break', () => {
    const s = cueStream(['ad.break']);
    s.send(spliceInsert(1, true, ticks(0.5), 2 * 90_000));
    s.play(5);
    expect(s.summary()).toEqual(['raised ad.break 0.5', 'cleared ad.break 2.5']);
    const checksOnly = cueStream(['scte35.preroll']);
    checksOnly.send(spliceInsert(1, true, ticks(0.5), 2 * 90_000));
    checksOnly.play(10);
    expect(checksOnly.summary()).toEqual(['raised scte35.preroll 0', 'cleared scte35.preroll 0.5']);
  });
});
