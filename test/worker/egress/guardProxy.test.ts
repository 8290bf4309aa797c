/**
 * Hostile playlists: ffmpeg fetches every http URL through the guard proxy and may open no local
 * file, so a playlist can neither read /etc/passwd nor reach an internal host, directly or by a
 * redirect. The "internal host" here is 127.0.0.2, a loopback address this test owns, treated as
 * forbidden because only 127.0.0.1/32 is allowed and local mode is off.
 */
import { readFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DefectEvent } from '../../../shared/events.js';
import { resolveThresholds } from '../../../shared/thresholds.js';
import { DOCUMENTS_BASE, type Exchange, GuardProxy } from '../../../worker/egress/GuardProxy.js';
import { StreamPipeline } from '../../../worker/pipeline/StreamPipeline.js';
import { fixturePath, fixturesReady } from '../../fixtures/generate.js';

// The fixture clips are made in the background (test/fixtures/globalSetup.ts).
beforeAll(() => fixturesReady(['clean.ts']));

const security = { localMode: false, allowFiles: false, allowedNetworks: ['127.0.0.1/32'] };
const logger = pino({ level: 'silent' });
let origin: Server;
let internal: Server;
let originUrl: string;
let internalUrl: string;
const internalHits: string[] = [];
const originHits: string[] = [];
const proxy = new GuardProxy(security, logger);
let proxyUrl: string;

function playlist(segment: string): string {
  return `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:12\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:12.0,\n${segment}\n#EXT-X-ENDLIST\n`;
}

let clip: Buffer;
/** A segment larger than what the sockets between origin, proxy and client hold unread. */
const big = Buffer.alloc(24 << 20, 0x47);
/** One past what the proxy holds for a client that does not read (32 MiB): then the origin waits. */
const huge = Buffer.alloc(64 << 20, 0x47);
huge.writeUInt32BE(0xdeadbeef, huge.length - 4);
/** Whether the origin has handed all of `huge` to its socket. */
let hugeSent = false;
/** An fMP4 media segment's shape: styp, emsg, moof, a 200 KB mdat. */
const fmp4 = Buffer.concat(
  [
    ['styp', 8],
    ['emsg', 40],
    ['moof', 100],
    ['mdat', 200_000],
  ].map(([type, size]) => {
    const b = Buffer.alloc(Number(size) + 8, 1);
    b.writeUInt32BE(Number(size) + 8);
    b.write(String(type), 4, 'latin1');
    return b;
  }),
);

beforeAll(async () => {
  clip = readFileSync(fixturePath('clean.ts'));
  internal = createServer((req, res) => {
    internalHits.push(req.url ?? '');
    res.end(playlist('seg.ts'));
  });
  await new Promise<void>((r) => internal.listen(0, '127.0.0.2', () => r()));
  internalUrl = `http://127.0.0.2:${(internal.address() as AddressInfo).port}`;
  origin = createServer((req, res) => {
    originHits.push(req.url ?? '');
    const routes: Record<string, () => void> = {
      '/good.m3u8': () => res.end(playlist('seg.ts')),
      '/seg.ts': () => res.end(clip),
      '/big.ts': () => res.end(big),
      '/huge.ts': () => {
        hugeSent = false;
        res.on('finish', () => {
          hugeSent = true;
        });
        res.end(huge);
      },
      // An fMP4 media segment: styp, an emsg, then the media (200 KB).
      '/seg.m4s': () => res.end(fmp4),
      '/passwd.m3u8': () => res.end(playlist('file:///etc/passwd')),
      '/internal.m3u8': () => res.end(playlist(`${internalUrl}/seg.ts`)),
      '/redirect.m3u8': () => res.writeHead(302, { location: `${internalUrl}/real.m3u8` }).end(),
      '/self.m3u8': () => res.end('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000000\nself.m3u8\n'),
      '/a.m3u8': () => res.end('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000000\nb.m3u8\n'),
      '/b.m3u8': () => res.end('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000000\na.m3u8\n'),
    };
    (routes[req.url ?? ''] ?? (() => res.writeHead(404).end()))();
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', () => r()));
  originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  proxyUrl = await proxy.start();
});
afterAll(async () => {
  await proxy.stop();
  origin.close();
  internal.close();
});

async function monitor(path: string, via = proxyUrl) {
  const events: DefectEvent[] = [];
  const pipeline = new StreamPipeline({
    streamId: path,
    source: `${originUrl}${path}`,
    kind: 'http',
    live: false,
    realtime: false,
    thresholds: resolveThresholds(),
    detectors: ['video.black', 'stream.loss'],
    expect: { audio: true, video: true },
    logger,
    onEvent: (e) => events.push(e),
    inputArgs: ['-http_proxy', via],
  });
  const result = await pipeline.runOnce();
  return { result, events };
}

/** A guard proxy of its own with one watched route: the route's URL and every exchange it reports. */
async function watchedRoute(key: string): Promise<{ watched: GuardProxy; via: URL; exchanges: Exchange[] }> {
  const watched = new GuardProxy(security, logger);
  const via = new URL(await watched.open(key));
  const exchanges: Exchange[] = [];
  watched.watch(key, (e) => exchanges.push(e));
  return { watched, via, exchanges };
}

/** GET `target` through the proxy at `via`: the response, paused (nothing of its body read). */
async function pausedResponse(via: URL, target: string): Promise<IncomingMessage> {
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = httpRequest({ host: via.hostname, port: via.port, path: target }, resolve);
    req.on('error', reject);
    req.end();
  });
  res.pause();
  return res;
}

/** The rest of a response's body. */
function readAll(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    res.on('data', (c: Buffer) => parts.push(c));
    res.on('end', () => resolve(Buffer.concat(parts)));
    res.resume();
  });
}

describe('the guard proxy with ffmpeg', () => {
  it('hands the watcher the head of an fMP4 segment (where its emsg boxes are), not the whole', async () => {
    const { watched, via, exchanges } = await watchedRoute('st_fmp4#all');
    const target = `${originUrl}/seg.m4s`;
    const size = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: via.hostname, port: via.port, path: target }, (res) => {
        let n = 0;
        res.on('data', (c: Buffer) => {
          n += c.length;
        });
        res.on('end', () => resolve(n));
      });
      req.on('error', reject);
      req.end();
    });
    await new Promise((r) => setTimeout(r, 100));
    await watched.stop();
    expect(size).toBe(fmp4.length);
    const done = exchanges.find((e) => e.url === target && !e.inProgress);
    expect(done?.body?.length).toBe(64 << 10);
    expect(done?.body?.equals(fmp4.subarray(0, 64 << 10))).toBe(true);
  });

  it('lets an honest playlist through, and hands the watcher the TS segment ffmpeg downloaded', async () => {
    const { watched, via, exchanges } = await watchedRoute('st_watched#all');
    const { result } = await monitor('/good.m3u8', via.href);
    await watched.stop();

    expect(result.error).toBeNull();
    expect(result.frames).toBeGreaterThan(100);
    const segment = exchanges.find((e) => e.url.endsWith('/seg.ts'));
    expect(segment?.status).toBe(200);
    expect(segment?.body?.equals(clip)).toBe(true);
    // Playlists are not handed over as bodies.
    expect(exchanges.filter((e) => e.body && !e.url.endsWith('.ts'))).toEqual([]);
  });

  it('does not let a playlist read a local file', async () => {
    const { result } = await monitor('/passwd.m3u8');

    expect(result.frames).toBe(0);
    expect(`${result.error?.message ?? ''} ${result.exit?.lastError ?? ''}`).toMatch(
      /not on whitelist|Invalid data|Protocol/i,
    );
  });

  it('refuses segments on an internal host without sending them a byte', async () => {
    const refusedBefore = proxy.refused;

    const { result } = await monitor('/internal.m3u8');

    expect(result.frames).toBe(0);
    expect(proxy.refused).toBeGreaterThan(refusedBefore);
    expect(internalHits).toEqual([]);
  });

  it('refuses a redirect to an internal host', async () => {
    const refusedBefore = proxy.refused;

    const { result } = await monitor('/redirect.m3u8');

    expect(result.error).not.toBeNull();
    expect(proxy.refused).toBeGreaterThan(refusedBefore);
    expect(internalHits).toEqual([]);
  });
});

describe('what one stream may ask of its origin', () => {
  it('refuses a master playlist that references itself, after one fetch, and says why', async () => {
    const url = await proxy.open('st_self#all');
    originHits.length = 0;

    const { result } = await monitor('/self.m3u8', url);

    expect(result.frames).toBe(0);
    expect(originHits.filter((h) => h === '/self.m3u8').length).toBeLessThanOrEqual(3);
    expect(proxy.problem('st_self#all')).toMatch(/leads back to itself/);
    await proxy.close('st_self#all');
  });

  it('refuses a loop through two master playlists', async () => {
    const url = await proxy.open('st_loop#all');
    originHits.length = 0;

    const { result } = await monitor('/a.m3u8', url);

    expect(result.frames).toBe(0);
    expect(originHits.length).toBeLessThanOrEqual(6);
    expect(proxy.problem('st_loop#all')).toMatch(/leads back to/);
    await proxy.close('st_loop#all');
  });

  it('bounds the requests of one stream (429 over the budget) without touching another', async () => {
    const tight = new GuardProxy(security, logger, { burst: 5, perSecond: 2 });
    const a = await tight.open('st_a#all');
    const b = await tight.open('st_b#all');
    const get = (via: string) =>
      new Promise<number>((resolve, reject) => {
        const target = new URL(`${originUrl}/good.m3u8`);
        const proxyUrl = new URL(via);
        const req = httpRequest(
          { host: proxyUrl.hostname, port: proxyUrl.port, path: target.href, headers: { host: target.host } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end();
      });
    originHits.length = 0;

    const statuses = [];
    for (let i = 0; i < 20; i++) statuses.push(await get(a));
    const other = await get(b);
    const problem = tight.problem('st_a#all');
    await tight.stop();

    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(5);
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(7);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(13);
    expect(other).toBe(200);
    expect(originHits.length).toBeLessThanOrEqual(8);
    expect(problem).toMatch(/request budget/);
  });

  it('reports a segment download that never ends while it runs, once a second, until the client hangs up', async () => {
    // An origin whose segment is an endless chunked body.
    let originClosed = false;
    const endless = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'video/mp2t' });
      const drip = setInterval(() => res.write(Buffer.alloc(188, 0x47)), 100);
      res.on('close', () => {
        originClosed = true;
        clearInterval(drip);
      });
    });
    await new Promise<void>((r) => endless.listen(0, '127.0.0.1', () => r()));
    const target = `http://127.0.0.1:${(endless.address() as AddressInfo).port}/seg_1.ts`;
    const { watched, via, exchanges } = await watchedRoute('st_endless#all');

    const req = httpRequest(
      { host: via.hostname, port: via.port, path: target, headers: { host: new URL(target).host } },
      (res) => res.resume(),
    );
    req.end();
    const seen = await new Promise<Exchange[]>((resolve) => {
      const check = setInterval(() => {
        if (exchanges.length >= 2) {
          clearInterval(check);
          resolve([...exchanges]);
        }
      }, 100);
    });
    // The client hangs up: the download is abandoned (no more reports) and the origin let go.
    req.destroy();
    const reported = exchanges.length;
    await new Promise((r) => setTimeout(r, 1500));
    const afterHangUp = exchanges.length - reported;
    const letGo = originClosed;
    await watched.stop();
    endless.closeAllConnections();
    endless.close();

    expect(seen.every((e) => e.inProgress && e.url === target && e.status === 200)).toBe(true);
    expect(seen[1].ms).toBeGreaterThan(seen[0].ms);
    expect(seen[0].ms).toBeGreaterThanOrEqual(900);
    expect(afterHangUp).toBe(0);
    expect(letGo).toBe(true);
  });

  it('times a segment by the origin, not by a client that has yet to read it', async () => {
    // ffmpeg opens the next segment before it reads it, and reads at its decoding pace: the
    // download is over when the origin has sent it, not when ffmpeg gets round to it.
    const { watched, via, exchanges } = await watchedRoute('st_unread#all');
    const target = `${originUrl}/big.ts`;
    const res = await pausedResponse(via, target);
    // Nothing read: the download still ends (up to 10 s for it).
    const ended = () => exchanges.some((e) => e.url === target && !e.inProgress);
    for (let i = 0; i < 100 && !ended(); i++) await new Promise((r) => setTimeout(r, 100));
    const beforeReading = exchanges.filter((e) => e.url === target && !e.inProgress);
    const body = await readAll(res);
    await watched.stop();

    expect(body.equals(big)).toBe(true);
    expect(beforeReading.map((e) => [e.status, e.error ?? null, e.body?.length])).toEqual([
      [200, null, big.length],
    ]);
    // Once ended, never reported as running again.
    expect(exchanges.filter((e) => e.url === target).at(-1)?.inProgress).toBeUndefined();
  });

  it('holds no more than 32 MiB for a client that does not read, and still hands on the whole body', async () => {
    const watched = new GuardProxy(security, logger);
    const via = new URL(await watched.open('st_huge#all'));
    const target = `${originUrl}/huge.ts`;
    const res = await pausedResponse(via, target);
    await new Promise((r) => setTimeout(r, 500));
    const sentBeforeReading = hugeSent;
    const body = await readAll(res);
    await watched.stop();
    expect(sentBeforeReading).toBe(false);
    expect(body.equals(huge)).toBe(true);
  });

  it("serves a stream's own documents to its route only, and never sends that name anywhere", async () => {
    const own = new GuardProxy(security, logger);
    const a = await own.open('st_docs#all');
    const b = await own.open('st_other#all');
    own.serve('st_docs#all', (path) => (path === 'master.m3u8' ? '#EXTM3U\n' : null));
    const get = (via: string, path: string) =>
      new Promise<[number, string]>((resolve, reject) => {
        const target = new URL(path, DOCUMENTS_BASE);
        const proxyUrl = new URL(via);
        const req = httpRequest(
          { host: proxyUrl.hostname, port: proxyUrl.port, path: target.href, headers: { host: target.host } },
          (res) => {
            let body = '';
            res.on('data', (c) => {
              body += c;
            });
            res.on('end', () => resolve([res.statusCode ?? 0, body]));
          },
        );
        req.on('error', reject);
        req.end();
      });
    const served = await get(a, 'master.m3u8');
    const unknown = await get(a, 'other.m3u8');
    const elsewhere = await get(b, 'master.m3u8');
    await own.stop();
    expect(served).toEqual([200, '#EXTM3U\n']);
    expect(unknown[0]).toBe(404);
    expect(elsewhere[0]).toBe(404);
    expect(own.refused).toBe(0);
  });
});
