/**
 * A live UDP sync signal on MPEG-2 whose flashes mostly fall on B pictures: the reference profile
 * cannot see them, so av.desync asks for every picture and the pipeline starts a new decoder that
 * decodes them all (the running one really stopped, the same run going on), then raises the
 * offset within 5 ms of the shift applied.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DefectEvent } from '../../../shared/events.js';
import { fixturePath, fixturesReady } from '../../fixtures/generate.js';
import { freeUdpPort, UdpSender } from '../../helpers/liveOrigin.js';
import { monitorUdp } from '../../helpers/udpMonitor.js';

beforeAll(() => fixturesReady());

const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

/** The ffmpeg command line of a running process, or null once it is gone. */
function commandLine(pid: number): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return null;
  }
}

describe('a live stream whose sync signal the reference profile cannot see', () => {
  it('is decoded whole from then on, and its offset raised', async () => {
    const port = await freeUdpPort();
    const sender = new UdpSender(fixturePath('sig-mpeg2-mp2-early.ts'), port);
    const events: DefectEvent[] = [];
    const pipeline = monitorUdp('st_everypicture', port, ['av.desync'], (e) => events.push(e));
    stops.push(
      () => sender.stop(),
      () => pipeline.stop(),
    );
    sender.start();
    const run = pipeline.runOnce();
    const decoders = new Map<number, string[]>();
    const deadline = Date.now() + 60_000;
    while (!events.some((e) => e.state === 'raised') && Date.now() < deadline) {
      const pid = pipeline.converterPid;
      if (pid && !decoders.has(pid)) {
        const args = commandLine(pid);
        if (args) decoders.set(pid, args);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    pipeline.stop();
    await run;

    const raised = events.find((e) => e.state === 'raised');
    expect(raised, 'av.desync raised').toBeDefined();
    expect(Math.abs(Number(raised?.detail.offsetMs) + 200)).toBeLessThanOrEqual(5);
    const lines = [...decoders.values()];
    expect(lines.length).toBe(2);
    expect(lines[0]).toContain('-skip_frame');
    expect(lines[1]).not.toContain('-skip_frame');
    expect(pipeline.decoding.decoding).toBe('full');
    expect(pipeline.decoding.fullReason).toMatch(/^av\.desync: a sync signal \(a beep every 2\.00 s\)/);
    // The first decoder is gone, not left running beside the second.
    expect(commandLine([...decoders.keys()][0])).toBeNull();
  }, 90_000);
});
