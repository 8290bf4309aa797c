/**
 * The whole system with real processes: the local stack (embedded registry, API on 127.0.0.1,
 * worker child processes), a live UDP source made by ffmpeg (read by the worker's transport tap,
 * relayed to its decoder), alarms through the outbox to the
 * NDJSON sink. Workers are really killed (SIGKILL) and really drained (SIGTERM).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../local/localStack.js';
import type { DefectEvent } from '../../shared/events.js';
import { readNdjsonEvents } from '../../worker/publishers/NdjsonFilePublisher.js';
import { makeClip } from '../helpers/clips.js';
import { freeUdpPort, UdpSender } from '../helpers/liveOrigin.js';
import { descendants, isAlive } from '../helpers/processes.js';
import { callApi, killItsWorker, until } from '../helpers/stackClient.js';

const dir = mkdtempSync(join(tmpdir(), 'streamqc-system-'));
let stack: LocalStack;
let sender: UdpSender;
let streamId = '';
const clip = join(dir, 'source.ts');

const events = (): DefectEvent[] => readNdjsonEvents(stack.ndjsonPath);
const api = (method: string, path: string, body?: unknown) =>
  callApi(stack.url, stack.apiKey!, method, path, body);

beforeAll(async () => {
  // A 12 s loop whose picture is black from 3 to 6 s.
  makeClip(clip, 12, ",drawbox=c=black:t=fill:enable='between(t,3,6)'", { audio: false });
  sender = new UdpSender(clip, await freeUdpPort());
  process.env.STREAMQC_LEASE_SECONDS = '3';
  process.env.STREAMQC_HEARTBEAT_SECONDS = '0.5';
  stack = await startLocalStack({
    dataDir: join(dir, 'stack'),
    port: 0,
    workers: 2,
    logger: pino({ level: 'silent' }),
    workerEnv: {
      STREAMQC_LEASE_SECONDS: '3',
      STREAMQC_HEARTBEAT_SECONDS: '0.5',
      STREAMQC_CONSOLE: '0',
      STREAMQC_LOG_LEVEL: 'info',
    },
  });
  sender.start();
}, 60_000);

afterAll(async () => {
  sender.stop();
  await stack?.stop();
});

describe('a registered live stream', () => {
  it('is assigned to a worker, raises and clears video.black, and shows it in /defects and the NDJSON sink', async () => {
    const created = await api('POST', '/streams', {
      url: sender.url,
      name: 'udp',
      detectors: ['video.black', 'stream.loss', 'transport.continuity'],
    });
    expect(created.status).toBe(201);
    streamId = created.body.id;

    const assigned = await until('assignment', 20, async () => {
      const s = await api('GET', `/streams/${streamId}`);
      return s.body.assignment[0].workerId ? s.body : undefined;
    });
    // The first black interval may be cut short by when the worker joined the loop: wait for a whole one.
    const cleared = await until('a whole black interval raised and cleared', 45, () =>
      events().find(
        (e) =>
          e.streamId === streamId &&
          e.type === 'video.black' &&
          e.state === 'cleared' &&
          e.end! - e.start > 2,
      ),
    );

    expect(assigned.assignment[0].workerId).toMatch(/^local-\d+$/);
    const raised = events().find((e) => e.dedupKey === cleared.dedupKey && e.state === 'raised');
    expect(raised).toMatchObject({ type: 'video.black', end: null, severity: 'critical' });
    expect(raised!.wallStart).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(cleared.end! - cleared.start).toBeGreaterThan(2);
    expect(cleared.end! - cleared.start).toBeLessThan(4);
    const defects = await api('GET', `/streams/${streamId}/defects`);
    const keys = defects.body.items.map((e: DefectEvent) => `${e.dedupKey}/${e.state}`);
    expect(keys).toContain(`${cleared.dedupKey}/raised`);
    expect(keys.indexOf(`${cleared.dedupKey}/cleared`)).toBeLessThan(
      keys.indexOf(`${cleared.dedupKey}/raised`),
    );
  });

  it('raises one stream.loss when the source stops and clears it, same key, when it resumes', async () => {
    sender.stop();
    const raised = await until('loss raised', 20, () =>
      events().find((e) => e.streamId === streamId && e.type === 'stream.loss' && e.state === 'raised'),
    );
    await new Promise((r) => setTimeout(r, 2000));
    sender.start();
    const cleared = await until('loss cleared', 30, () =>
      events().find((e) => e.streamId === streamId && e.type === 'stream.loss' && e.state === 'cleared'),
    );

    expect(cleared.dedupKey).toBe(raised.dedupKey);
    expect(events().filter((e) => e.type === 'stream.loss' && e.state === 'raised')).toHaveLength(1);
    // A feed that goes silent: media stopped, no error to name (detail.cause).
    expect(raised.detail.cause).toBe('no_data');
    expect(cleared.end! - cleared.start).toBeGreaterThan(3);
  });

  it('moves to another worker within the lease timeout when its worker is killed, raising nothing twice', async () => {
    const before = (await api('GET', `/streams/${streamId}`)).body.assignment[0].workerId as string;
    const victim = stack.launcher.children.get(before)!.process;
    const victimFfmpeg = descendants(victim.pid!);

    // Where the stream's media timeline stands before the kill: the new worker goes on from it.
    const seen = events().filter((e) => e.streamId === streamId);
    const timelineBefore = Math.max(...seen.map((e) => e.end ?? e.start));
    victim.kill('SIGKILL');
    const killedAt = Date.now();
    const after = await until('new assignment', 30, async () => {
      const s = await api('GET', `/streams/${streamId}`);
      const worker = s.body.assignment[0].workerId;
      return worker && worker !== before && s.body.health.all?.workerId === worker ? worker : undefined;
    });
    const movedIn = (Date.now() - killedAt) / 1000;
    const blackRaisesBefore = events().filter((e) => e.type === 'video.black' && e.state === 'raised').length;
    const blackAfter = await until(
      'black from the new worker',
      40,
      () => events().filter((e) => e.type === 'video.black' && e.state === 'raised')[blackRaisesBefore],
    );
    // The same timeline, gone on by the time nobody watched (not restarted at 0).
    expect(blackAfter.start).toBeGreaterThan(timelineBefore + movedIn - 5);

    expect(after).not.toBe(before);
    expect(movedIn).toBeLessThan(15);
    const raisedKeys = events()
      .filter((e) => e.state === 'raised')
      .map((e) => e.dedupKey);
    expect(new Set(raisedKeys).size).toBe(raisedKeys.length);
    await until('orphaned ffmpeg gone', 15, () =>
      victimFfmpeg.every((p) => !isAlive(p)) ? true : undefined,
    );
  });

  it('keeps a loss that spans a takeover one incident, cleared with the length the source was gone', async () => {
    sender.stop();
    const stoppedAt = Date.now();
    const lossKeysBefore = new Set(
      events()
        .filter((e) => e.type === 'stream.loss')
        .map((e) => e.dedupKey),
    );
    const raised = await until('loss raised', 20, () =>
      events().find(
        (e) => e.type === 'stream.loss' && e.state === 'raised' && !lossKeysBefore.has(e.dedupKey),
      ),
    );
    await killItsWorker(stack, streamId);
    await new Promise((r) => setTimeout(r, 2000));
    sender.start();
    const restartedAt = Date.now();
    const cleared = await until('loss cleared', 30, () =>
      events().find((e) => e.dedupKey === raised.dedupKey && e.state === 'cleared'),
    );
    const clearedAt = Date.now();

    const incident = events().filter((e) => e.dedupKey === raised.dedupKey);
    expect(incident.map((e) => e.state)).toEqual(['raised', 'cleared']);
    expect(
      events().filter(
        (e) => e.type === 'stream.loss' && e.state === 'raised' && !lossKeysBefore.has(e.dedupKey),
      ),
    ).toHaveLength(1);
    // From the last media before the stop to the first after the restart, on one timeline.
    const length = cleared.end! - cleared.start;
    expect(length).toBeGreaterThan((restartedAt - stoppedAt) / 1000 - 2);
    expect(length).toBeLessThan((clearedAt - stoppedAt) / 1000 + 5);
  }, 90_000);

  it('drains on SIGTERM: leases released, no ffmpeg left behind', async () => {
    const ffmpegs = [...stack.launcher.children.values()].flatMap((c) => descendants(c.process.pid!));
    expect(ffmpegs.length).toBeGreaterThan(0);

    const held = await stack.registry.units.getMany([`${streamId}#all`]);
    await stack.launcher.stopAll();
    const after = await stack.registry.units.getMany([`${streamId}#all`]);

    expect(held.some((u) => u.holder)).toBe(true);
    expect(
      after.every((u) => !u.holder && u.pool?.startsWith('waiting#') && /drained/.test(u.waitReason ?? '')),
    ).toBe(true);
    expect(await stack.registry.fleet.all()).toEqual([]);
    for (const pid of ffmpegs) expect(isAlive(pid)).toBe(false);
  });
});
