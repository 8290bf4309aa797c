/**
 * captions.missing on a live HLS stream: the captions its video carried (CEA-608 CC1 and CEA-708
 * service 1 in H.264 SEI) stop at 8 s of the programme, and the monitor raises it, dated where
 * the first segment without them starts; a programme captioned throughout raises nothing, though
 * between two downloads no segment carries anything. Each origin publishes 2 s segments (the
 * caption fixtures cut with `-c copy`) at real time in a sliding window, as a packager does.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DefectEvent } from '../../shared/events.js';
import { fixturePath, fixturesReady } from '../fixtures/generate.js';
import { type CutHlsOrigin, cutHlsOrigin } from '../helpers/cutHlsOrigin.js';
import { monitorHls } from '../helpers/hlsMonitor.js';
import { until } from '../helpers/stackClient.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SEGMENT = 2;
const origins: CutHlsOrigin[] = [];

/** A live origin of the fixture cut into 2 s segments (stream copy). */
async function liveOrigin(fixture: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'streamqc-hls-captions-'));
  execFileSync('ffmpeg', [
    ...['-v', 'error', '-i', fixturePath(fixture), '-c', 'copy', '-f', 'hls'],
    ...['-hls_time', String(SEGMENT), '-hls_playlist_type', 'vod'],
    ...['-hls_segment_filename', join(dir, 'seg%03d.ts'), join(dir, 'vod.m3u8')],
  ]);
  const names = readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .sort();
  const origin = await cutHlsOrigin({ dir, names, segmentSeconds: SEGMENT });
  origins.push(origin);
  return origin.url;
}

beforeAll(async () => {
  await fixturesReady(['captions-stop.ts', 'captions-ok.ts']);
}, 120_000);
afterAll(async () => {
  await Promise.all(origins.map((o) => o.close()));
});

describe('captions.missing on HLS', () => {
  it('raises when the captions a stream carried stop, dated at the first segment without them; not while they come', async () => {
    const stopped: DefectEvent[] = [];
    const captioned: DefectEvent[] = [];
    const runs = await Promise.all([
      monitorHls('stops', await liveOrigin('captions-stop.ts'), ['captions.missing'], (e) => stopped.push(e)),
      monitorHls('captioned', await liveOrigin('captions-ok.ts'), ['captions.missing'], (e) =>
        captioned.push(e),
      ),
    ]);
    // Captions stop at 8 s; 10 s without them (up to 18 s of the programme) raise it: published
    // 18 s after the origin started, later on a busy machine. The captioned one is watched past
    // its end (14 s) either way.
    const started = Date.now();
    await until('captions.missing raised', 75, () => stopped.find((e) => e.state === 'raised'));
    await sleep(Math.max(0, 28_000 - (Date.now() - started)) + 2000);
    await Promise.all(runs.map((r) => r.stop()));

    const summary = (events: DefectEvent[]) =>
      events.map((e) => `${e.state} ${e.type} ${e.start} ${JSON.stringify(e.detail)}`).join('\n');
    expect(
      stopped.map((e) => `${e.state} ${e.type}`),
      summary(stopped),
    ).toEqual(['raised captions.missing']);
    const [raised] = stopped;
    expect(raised.start, summary(stopped)).toBeGreaterThan(7.5);
    expect(raised.start, summary(stopped)).toBeLessThan(8.5);
    expect(raised.detail.missing, summary(stopped)).toBe('CEA-608 field 1 (CC1/CC2), CEA-708');
    expect(String(raised.detail.services).split(',').sort()).toEqual(['708-1', 'CC1']);
    expect(captioned, summary(captioned)).toEqual([]);
  }, 120_000);
});
