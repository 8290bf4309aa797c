/**
 * Alarms an on-call engineer can trust, on live sources through the local stack: incident
 * durations in media time on live HLS (2 s EVENT and 6 s sliding-window playlists arrive in
 * bursts), one stream.loss incident for one 35 s UDP outage, no loss when the monitor's own ffmpeg
 * is killed, truthful health for a source that never opens, and a flapping picture that raises at
 * most a few times a minute.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../local/localStack.js';
import type { DefectEvent } from '../../shared/events.js';
import { readNdjsonEvents as readEvents } from '../../worker/publishers/NdjsonFilePublisher.js';
import { makeClip } from '../helpers/clips.js';
import { freeUdpPort, type HlsOrigin, startHlsOrigin, UdpSender } from '../helpers/liveOrigin.js';
import { descendants, isAlive } from '../helpers/processes.js';
import { callApi, until } from '../helpers/stackClient.js';

const dir = mkdtempSync(join(tmpdir(), 'streamqc-live-'));
let stack: LocalStack;
const origins: HlsOrigin[] = [];
const senders: UdpSender[] = [];
const ids: Record<'hls2' | 'hls6' | 'udp' | 'flap' | 'dead', string> = {
  hls2: '',
  hls6: '',
  udp: '',
  flap: '',
  dead: '',
};
let flapRegisteredAt = 0;
let originsStartedAt = 0;

const events = (): DefectEvent[] => readEvents(stack.ndjsonPath);
const api = (method: string, path: string, body?: unknown) =>
  callApi(stack.url, stack.apiKey!, method, path, body);

async function register(name: keyof typeof ids, url: string): Promise<void> {
  const created = await api('POST', '/streams', { url, name });
  expect(created.status).toBe(201);
  ids[name] = created.body.id;
}

/** The ffmpeg decoding a source, found among the workers' children by its input. */
function converterPid(source: string): number | undefined {
  const pids = [...stack.launcher.children.values()].flatMap((c) => descendants(c.process.pid!));
  return pids.find((pid) => {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return cmd[0].endsWith('ffmpeg') && cmd.some((arg) => arg.startsWith(source));
    } catch {
      return false;
    }
  });
}

beforeAll(async () => {
  const black = join(dir, 'black.ts');
  const steady = join(dir, 'steady.ts');
  const flapping = join(dir, 'flapping.ts');
  makeClip(black, 40, ",drawbox=c=black:t=fill:enable='between(t,14,17)'");
  makeClip(steady, 20, '');
  makeClip(flapping, 70, ",drawbox=c=black:t=fill:enable='gte(t,4)*lt(mod(t-4,3),1.5)'");
  stack = await startLocalStack({
    dataDir: join(dir, 'stack'),
    port: 0,
    workers: 2,
    logger: pino({ level: 'silent' }),
    workerEnv: { STREAMQC_CONSOLE: '0', STREAMQC_LOG_LEVEL: 'info' },
  });
  originsStartedAt = Date.now();
  origins.push(
    await startHlsOrigin({ clip: black, dir: join(dir, 'hls2'), segmentSeconds: 2, playlist: 'event' }),
    await startHlsOrigin({ clip: black, dir: join(dir, 'hls6'), segmentSeconds: 6, playlist: 'sliding' }),
  );
  senders.push(new UdpSender(steady, await freeUdpPort()), new UdpSender(flapping, await freeUdpPort()));
  for (const s of senders) s.start();
  await register('hls2', origins[0].url);
  await register('hls6', origins[1].url);
  await register('udp', senders[0].url);
  await register('flap', senders[1].url);
  flapRegisteredAt = Date.now();
  await register('dead', `udp://127.0.0.1:${await freeUdpPort()}`);
}, 120_000);

afterAll(async () => {
  for (const s of senders) s.stop();
  for (const o of origins) await o.stop();
  await stack?.stop();
});

/** The black incident of a stream, once cleared. */
function blackIncident(streamId: string): Promise<DefectEvent> {
  return until(`black on ${streamId} cleared`, 90, () =>
    events().find((e) => e.streamId === streamId && e.type === 'video.black' && e.state === 'cleared'),
  );
}

describe('media time on live HLS', () => {
  it('reports a 3.0 s black as 3.0 ± 0.2 s on 2 s segments (EVENT playlist)', async () => {
    const black = await blackIncident(ids.hls2);

    expect(black.end! - black.start).toBeGreaterThan(2.8);
    expect(black.end! - black.start).toBeLessThan(3.2);
  });

  it('does not analyse a closed playlist again when it re-opens it, nor call the wait between segments a loss', async () => {
    // Both packagers stop at the end of the 40 s clip; the EVENT playlist is then closed.
    await until('the clip played out', 90, () => (Date.now() - originsStartedAt > 50_000 ? true : undefined));

    const hls = events().filter((e) => e.streamId === ids.hls2 || e.streamId === ids.hls6);
    expect(hls.filter((e) => e.type === 'video.black' && e.state === 'raised')).toHaveLength(2);
    const lossDuringPlay = hls.filter(
      (e) => e.type === 'stream.loss' && Date.parse(e.wallStart!) < originsStartedAt + 38_000,
    );
    expect(lossDuringPlay).toEqual([]);
  }, 120_000);

  it('reports a 3.0 s black as 3.0 ± 0.2 s on 6 s segments (sliding window)', async () => {
    const black = await blackIncident(ids.hls6);

    expect(black.end! - black.start).toBeGreaterThan(2.8);
    expect(black.end! - black.start).toBeLessThan(3.2);
    // Media time is the source's: the black starts 14 s into the clip, whatever segment we joined on.
    expect(black.start % 6).toBeCloseTo(14 % 6, 0);
  });
});

describe('stream.loss lifecycle', () => {
  it("raises no loss when the monitor's own ffmpeg is killed, and counts the restart in health", async () => {
    // The worker reads the UDP source itself and relays it to the decoder (transport checks).
    const input = await until('the UDP stream relayed to its decoder', 30, async () => {
      return (await api('GET', `/streams/${ids.udp}`)).body.health.all?.decoderInput as string | undefined;
    });
    const pid = await until('the converter of the UDP stream', 30, () => converterPid(input));

    process.kill(pid, 'SIGKILL');
    const health = await until('a new converter running', 30, async () => {
      const s = await api('GET', `/streams/${ids.udp}`);
      const h = s.body.health.all;
      return h && h.restarts >= 1 && h.state === 'running' ? h : undefined;
    });
    await new Promise((r) => setTimeout(r, 5000));

    expect(isAlive(pid)).toBe(false);
    expect(health.restarts).toBeGreaterThanOrEqual(1);
    expect(events().filter((e) => e.streamId === ids.udp && e.type === 'stream.loss')).toEqual([]);
  });

  it('makes a 35 s UDP outage exactly one incident, raised within 5 s and cleared after the feed returns', async () => {
    senders[0].stop();
    const stoppedAt = Date.now();
    await until('loss raised', 10, () =>
      events().find((e) => e.streamId === ids.udp && e.type === 'stream.loss' && e.state === 'raised'),
    );
    const raisedAfter = (Date.now() - stoppedAt) / 1000;
    const during = await until('health says no media', 20, async () => {
      const h = (await api('GET', `/streams/${ids.udp}`)).body.health.all;
      return h && h.state !== 'running' ? h : undefined;
    });
    await new Promise((r) => setTimeout(r, 35_000 - (Date.now() - stoppedAt)));
    senders[0].start();
    const cleared = await until('loss cleared', 60, () =>
      events().find((e) => e.streamId === ids.udp && e.type === 'stream.loss' && e.state === 'cleared'),
    );

    const loss = events().filter((e) => e.streamId === ids.udp && e.type === 'stream.loss');
    expect(raisedAfter).toBeLessThan(5);
    expect(['no-media', 'backoff', 'opening']).toContain(during.state);
    expect(loss.map((e) => e.state)).toEqual(['raised', 'cleared']);
    expect(new Set(loss.map((e) => e.dedupKey)).size).toBe(1);
    const outage = (Date.parse(cleared.wallEnd!) - Date.parse(cleared.wallStart!)) / 1000;
    expect(outage).toBeGreaterThan(34);
    expect(outage).toBeLessThan(50);
  }, 150_000);
});

describe('a source that never opens', () => {
  it('is never "running", carries no media time, and raises stream.loss', async () => {
    const h = await until('health of the dead source', 40, async () => {
      const s = await api('GET', `/streams/${ids.dead}`);
      return s.body.health.all;
    });
    const loss = await until('loss on the dead source', 40, () =>
      events().find((e) => e.streamId === ids.dead && e.type === 'stream.loss' && e.state === 'raised'),
    );

    expect(h.state).not.toBe('running');
    expect(h.mediaTime).toBe(0);
    expect(h.lastMediaAt).toBeUndefined();
    expect(loss.start).toBe(0);
  });
});

describe('flapping', () => {
  it('raises a picture black for 1.5 s every 3 s at most 3 times a minute', async () => {
    const wait = 65_000 - (Date.now() - flapRegisteredAt);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const minutes = (Date.now() - flapRegisteredAt) / 60_000;

    const black = events().filter((e) => e.streamId === ids.flap && e.type === 'video.black');
    const raises = black.filter((e) => e.state === 'raised');
    expect(raises.length).toBeGreaterThan(0);
    expect(raises.length / minutes).toBeLessThanOrEqual(3);
  }, 120_000);
});
