/**
 * Ad breaks signalled in a live HLS playlist (EXT-X-CUE-OUT / EXT-X-CUE-IN) are not defects: the
 * programme goes to black and silence for 10 s inside a signalled break, and the monitor reports
 * the break (`ad.break`, raised and cleared, with its planned duration) and no black or silence.
 * The same programme without the cues raises both. Each origin publishes pre-encoded 2 s
 * segments at real time in a sliding window, the way a packager does; the cued programme both as
 * TS segments and as fMP4 (CMAF-style, EXT-X-MAP), whose breaks are dated from their tfdt.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DefectEvent } from '../../shared/events.js';
import { darkProgrammeInputs } from '../helpers/clips.js';
import {
  type CutHlsOrigin,
  type CutSegments,
  cutHlsOrigin,
  segmentableH264Aac,
} from '../helpers/cutHlsOrigin.js';
import { monitorHls } from '../helpers/hlsMonitor.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SEGMENT = 2;
/** Black and silent from 20 s to 30 s: segments 10 to 14 (the monitor well settled before). */
const DARK = { from: 20, to: 30 };

type Packaging = 'ts' | 'fmp4';
const segments = {} as Record<Packaging, CutSegments>;
const origins: CutHlsOrigin[] = [];

beforeAll(() => {
  for (const packaging of ['ts', 'fmp4'] as const) segments[packaging] = package_(packaging);
});
afterAll(async () => {
  await Promise.all(origins.map((o) => o.close()));
});

/** The programme as 2 s HLS segments: seg000.ts … or, fMP4, init.mp4 and seg000.m4s …. */
function package_(packaging: Packaging): CutSegments {
  const dir = mkdtempSync(join(tmpdir(), 'streamqc-breaks-'));
  const extension = packaging === 'ts' ? 'ts' : 'm4s';
  execFileSync('ffmpeg', [
    ...['-v', 'error', ...darkProgrammeInputs(50, DARK.from, DARK.to), ...segmentableH264Aac('ultrafast')],
    ...['-f', 'hls', '-hls_time', String(SEGMENT), '-hls_playlist_type', 'vod'],
    ...(packaging === 'fmp4' ? ['-hls_segment_type', 'fmp4', '-hls_fmp4_init_filename', 'init.mp4'] : []),
    ...['-hls_segment_filename', join(dir, `seg%03d.${extension}`), join(dir, 'vod.m3u8')],
  ]);
  const names = readdirSync(dir)
    .filter((f) => f.endsWith(`.${extension}`))
    .sort();
  return { dir, names, segmentSeconds: SEGMENT, ...(packaging === 'fmp4' ? { init: 'init.mp4' } : {}) };
}

/** A live origin of the programme; with cues, the break: out on segment 10 (20 s), planned for 12 s, back on 15 (30 s). */
async function liveOrigin(cues: boolean, packaging: Packaging = 'ts'): Promise<string> {
  const out = DARK.from / SEGMENT;
  const back = DARK.to / SEGMENT;
  const origin = await cutHlsOrigin(segments[packaging], (n) => {
    if (!cues) return [];
    if (n === out) return ['#EXT-X-CUE-OUT:12'];
    if (n > out && n < back) return [`#EXT-X-CUE-OUT-CONT:ElapsedTime=${(n - out) * SEGMENT},Duration=12`];
    return n === back ? ['#EXT-X-CUE-IN'] : [];
  });
  origins.push(origin);
  return origin.url;
}

describe('ad breaks signalled in HLS', () => {
  it('black and silence inside a signalled break are the break, reported once; without the cues they are alarms', async () => {
    const types = ['video.black', 'audio.silence', 'video.freeze', 'stream.loss', 'ad.break'] as const;
    const withCues: DefectEvent[] = [];
    const fmp4: DefectEvent[] = [];
    const without: DefectEvent[] = [];
    const runs = await Promise.all([
      monitorHls('breaks', await liveOrigin(true), types, (e) => withCues.push(e)),
      monitorHls('breaks-fmp4', await liveOrigin(true, 'fmp4'), types, (e) => fmp4.push(e)),
      monitorHls('no-cues', await liveOrigin(false), types, (e) => without.push(e)),
    ]);
    // The dark stretch ends at 30 s of the programme; its clear, and the break's, a few seconds on.
    await sleep(44_000);
    await Promise.all(runs.map((r) => r.stop()));

    const story = (events: DefectEvent[]) => events.map((e) => `${e.state} ${e.type}`);
    const summary = (events: DefectEvent[]) =>
      events.map((e) => `${e.state} ${e.type} ${e.start}–${e.end}`).join('\n');
    for (const events of [withCues, fmp4]) {
      expect(story(events), summary(events)).toEqual(['raised ad.break', 'cleared ad.break']);
      const [raised, cleared] = events;
      expect(raised.detail).toMatchObject({ signal: 'EXT-X-CUE-OUT', plannedDuration: 12 });
      expect(cleared.detail).toMatchObject({ returned: true, inhibited: 'audio.silence, video.black' });
      // Dated where the cued segments start in the programme, however far the decoded media lags:
      // TS by their first PTS, fMP4 by their tfdt (the programme's audio starts there, at 0).
      expect(raised.start, summary(events)).toBeCloseTo(DARK.from, 1);
      expect(cleared.end, summary(events)).toBeCloseTo(DARK.to, 1);
    }

    const alarms = without
      .filter((e) => e.state === 'raised')
      .map((e) => e.type)
      .sort();
    expect(alarms, summary(without)).toEqual(['audio.silence', 'video.black']);
  }, 90_000);
});
