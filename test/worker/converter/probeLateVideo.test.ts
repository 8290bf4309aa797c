/**
 * A live source joined between key frames: its first key frame (with the sequence parameters that
 * give the picture's size) comes 2.7 s after the monitor starts reading, later than the probe's
 * first look (2 s), which finds a video track it cannot size. The probe looks again, longer,
 * rather than calling the video missing (a density benchmark raised video.missing so).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DefectEvent } from '../../../shared/events.js';
import { joinAt } from '../../fixtures/tsSurgery.js';
import { makeClip } from '../../helpers/clips.js';
import { freeUdpPort, UdpSender } from '../../helpers/liveOrigin.js';
import { monitorUdp } from '../../helpers/udpMonitor.js';

const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

describe('probing a live source whose video comes late', () => {
  it('looks again for longer and finds the video: no video.missing', async () => {
    // Key frames every 4 s; the stream starts 1.3 s into the first picture group.
    const dir = mkdtempSync(join(tmpdir(), 'streamqc-probe-'));
    const clip = join(dir, 'clip.ts');
    makeClip(clip, 40, '', { gop: 100 });
    const late = join(dir, 'late.ts');
    writeFileSync(late, joinAt(readFileSync(clip), 1.3));
    const port = await freeUdpPort();
    const sender = new UdpSender(late, port);
    const events: DefectEvent[] = [];
    const pipeline = monitorUdp('st_latevideo', port, ['video.missing', 'audio.missing'], (e) =>
      events.push(e),
    );
    stops.push(
      () => sender.stop(),
      () => pipeline.stop(),
    );
    sender.start();
    const run = pipeline.runOnce();
    const deadline = Date.now() + 30_000;
    while (pipeline.currentMediaTime < 6 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    pipeline.stop();
    const result = await run;

    expect(result.tracks?.video?.width).toBeGreaterThan(0);
    expect(events.filter((e) => e.type === 'video.missing')).toEqual([]);
  }, 60_000);
});
