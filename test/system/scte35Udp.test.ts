/**
 * SCTE-35 on a live UDP source: the worker's tap finds the cue PID in the PMT and reads the
 * splice_insert cues (4 s ahead of their splice), the programme goes to black and silence inside
 * the signalled break, and the monitor reports the break and no black or silence. The same stream
 * without the cues raises both.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DefectEvent } from '../../shared/events.js';
import { darkProgrammeInputs } from '../helpers/clips.js';
import { freeUdpPort } from '../helpers/liveOrigin.js';
import { sendPaced, spliceInsert, withCues } from '../helpers/scte35Stream.js';
import { monitorUdp } from '../helpers/udpMonitor.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const stops: (() => void)[] = [];
afterAll(() => {
  for (const s of stops) s();
});

describe('SCTE-35 breaks on a UDP transport stream', () => {
  it('black and silence inside a splice_insert break are the break; without the cues they are alarms', async () => {
    const clip = join(mkdtempSync(join(tmpdir(), 'streamqc-scte35-')), 'dark.ts');
    execFileSync('ffmpeg', [
      '-v',
      'error',
      ...darkProgrammeInputs(36, 14, 24),
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-g',
      '25',
      '-c:a',
      'aac',
      '-f',
      'mpegts',
      clip,
    ]);
    // Out at 14 s for 10 s, back at 24 s; each cue sent 4 s before its splice.
    const cued = withCues(clip, [
      { sendAt: 10, section: (first) => spliceInsert(1, true, first + 14 * 90_000, 10 * 90_000) },
      { sendAt: 20, section: (first) => spliceInsert(1, false, first + 24 * 90_000) },
    ]);
    const plain = withCues(clip, []);
    const types = ['video.black', 'audio.silence', 'video.freeze', 'ad.break'] as const;
    const runs = await Promise.all(
      [cued, plain].map(async (ts, i) => {
        const port = await freeUdpPort();
        const events: DefectEvent[] = [];
        const pipeline = monitorUdp(i ? 'plain' : 'cued', port, types, (e) => events.push(e));
        const running = pipeline.runOnce();
        await sleep(1500);
        const sender = sendPaced(ts, port);
        stops.push(sender.stop, () => pipeline.stop());
        return { events, pipeline, running, sender };
      }),
    );
    await Promise.all(runs.map((r) => r.sender.done));
    await sleep(4000);
    for (const r of runs) r.pipeline.stop();
    await Promise.all(runs.map((r) => r.running));

    const [withBreak, without] = runs.map((r) => r.events);
    const summary = (events: DefectEvent[]) =>
      events.map((e) => `${e.state} ${e.type} ${e.start} ${JSON.stringify(e.detail)}`).join('\n');
    expect(
      withBreak.map((e) => `${e.state} ${e.type}`),
      summary(withBreak),
    ).toEqual(['raised ad.break', 'cleared ad.break']);
    const [raised, cleared] = withBreak;
    expect(raised.detail).toMatchObject({ signal: 'SCTE-35 splice_insert', cueId: 1, plannedDuration: 10 });
    expect(cleared.detail).toMatchObject({ returned: true, inhibited: 'audio.silence, video.black' });
    expect(cleared.end! - raised.start).toBeCloseTo(10, 0);
    expect(
      without
        .filter((e) => e.state === 'raised')
        .map((e) => e.type)
        .sort(),
      summary(without),
    ).toEqual(['audio.silence', 'video.black']);
  }, 90_000);
});
