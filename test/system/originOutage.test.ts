/**
 * One incident per cause, on a live HLS source as a worker runs it: the origin's HTTP server goes
 * away for 12 s (connections refused) while the packager goes on, then comes back with the sliding
 * window moved on. The one page is `stream.loss` with its cause; the playlists and segments that
 * failed meanwhile, the media sequence that moved on and any damage the decoder saw re-joining are
 * its symptoms (worker/alarms/Inhibitor.ts), not alarms of their own.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFECT_TYPES, type DefectEvent } from '../../shared/events.js';
import { monitorHls } from '../helpers/hlsMonitor.js';
import { startHlsOrigin } from '../helpers/liveOrigin.js';
import { clipLongerThan } from '../helpers/udpMonitor.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

describe('an origin outage', () => {
  it('is one incident: stream.loss with its cause, no delivery, transport or corruption alarm', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'streamqc-outage-'));
    const origin = await startHlsOrigin({
      clip: clipLongerThan(70),
      dir: join(dir, 'hls'),
      segmentSeconds: 2,
      playlist: 'sliding',
    });
    cleanups.push(() => origin.stop());
    const events: DefectEvent[] = [];
    const run = await monitorHls('outage', origin.url, DEFECT_TYPES, (e) => events.push(e));
    cleanups.push(() => run.stop());

    await sleep(16_000);
    const whileClean = [...events];
    await origin.down();
    await sleep(12_000);
    await origin.up();
    // Back: the loss clears at the first media; symptoms are held back 10 s longer.
    await sleep(24_000);
    await run.stop();

    expect(whileClean).toEqual([]);
    const summary = events.map((e) => `${e.state} ${e.type} ${JSON.stringify(e.detail)}`).join('\n');
    expect(
      events.map((e) => [e.type, e.state]),
      summary,
    ).toEqual([
      ['stream.loss', 'raised'],
      ['stream.loss', 'cleared'],
    ]);
    expect(events[0].detail.cause, summary).toBe('connection_refused');
  }, 90_000);
});
