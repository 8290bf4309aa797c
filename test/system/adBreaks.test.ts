/**
 * Ad breaks signalled in a live HLS playlist (EXT-X-CUE-OUT / EXT-X-CUE-IN) are not defects: the
 * programme goes to black and silence for 10 s inside a signalled break, and the monitor reports
 * the break (`ad.break`, raised and cleared, with its planned duration) and no black or silence.
 * The same programme without the cues raises both. Each origin publishes pre-encoded 2 s
 * segments at real time in a sliding window, the way a packager does; the cued programme both as
 * TS segments and as fMP4 (CMAF-style, EXT-X-MAP), whose breaks are dated from their tfdt.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DefectEvent } from '../../shared/events.js';
import { darkProgrammeInputs } from '../helpers/clips.js';
import { monitorHls } from '../helpers/hlsMonitor.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SEGMENT = 2;
/** Black and silent from 20 s to 30 s: segments 10 to 14 (the monitor well settled before). */
const DARK = { from: 20, to: 30 };

let dir: string;
const segments: Record<Packaging, string[]> = { ts: [], fmp4: [] };
const servers: Server[] = [];
type Packaging = 'ts' | 'fmp4';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'streamqc-breaks-'));
  for (const packaging of ['ts', 'fmp4'] as const) package_(packaging);
});

/** The programme as 2 s HLS segments: seg000.ts … or, fMP4, init.mp4 and seg000.m4s …. */
function package_(packaging: Packaging): void {
  const extension = packaging === 'ts' ? 'ts' : 'm4s';
  execFileSync('ffmpeg', [
    '-v',
    'error',
    ...darkProgrammeInputs(50, DARK.from, DARK.to),
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-g',
    '50',
    '-keyint_min',
    '50',
    '-sc_threshold',
    '0',
    '-c:a',
    'aac',
    '-f',
    'hls',
    '-hls_time',
    String(SEGMENT),
    '-hls_playlist_type',
    'vod',
    ...(packaging === 'fmp4' ? ['-hls_segment_type', 'fmp4', '-hls_fmp4_init_filename', 'init.mp4'] : []),
    '-hls_segment_filename',
    join(dir, `seg%03d.${extension}`),
    join(dir, `vod-${packaging}.m3u8`),
  ]);
  segments[packaging] = readdirSync(dir)
    .filter((f) => f.endsWith(`.${extension}`))
    .sort();
}
afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

/** A live origin: segment n is listed once it has been "recorded" (2 s each), five at a time. */
async function liveOrigin(cues: boolean, packaging: Packaging = 'ts'): Promise<string> {
  const listed = segments[packaging];
  const started = Date.now();
  const server = createServer((req, res) => {
    const name = (req.url ?? '').slice(1);
    if (name === 'live.m3u8') {
      const available = Math.min(listed.length, Math.floor((Date.now() - started) / (SEGMENT * 1000)) + 1);
      const first = Math.max(0, available - 5);
      const lines = [
        '#EXTM3U',
        `#EXT-X-VERSION:${packaging === 'ts' ? 3 : 7}`,
        `#EXT-X-TARGETDURATION:${SEGMENT}`,
        `#EXT-X-MEDIA-SEQUENCE:${first}`,
        ...(packaging === 'fmp4' ? ['#EXT-X-MAP:URI="init.mp4"'] : []),
      ];
      for (let n = first; n < available; n++) {
        // The break: out on segment 10 (20 s), planned for 12 s, back on segment 15 (30 s).
        const out = DARK.from / SEGMENT;
        const back = DARK.to / SEGMENT;
        if (cues && n === out) lines.push('#EXT-X-CUE-OUT:12');
        else if (cues && n > out && n < back)
          lines.push(`#EXT-X-CUE-OUT-CONT:ElapsedTime=${(n - out) * SEGMENT},Duration=12`);
        else if (cues && n === back) lines.push('#EXT-X-CUE-IN');
        lines.push(`#EXTINF:${SEGMENT}.000,`, listed[n]);
      }
      res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' }).end(`${lines.join('\n')}\n`);
      return;
    }
    if (!listed.includes(name) && !(packaging === 'fmp4' && name === 'init.mp4')) {
      res.writeHead(404).end();
      return;
    }
    const type = packaging === 'ts' ? 'video/mp2t' : 'video/mp4';
    res.writeHead(200, { 'content-type': type }).end(readFileSync(join(dir, name)));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/live.m3u8`;
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
