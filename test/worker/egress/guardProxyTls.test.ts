/**
 * https sources: certificates are verified for every request ffmpeg makes — the playlist and
 * each segment — not only the first. FFmpeg's own `-tls_verify` misses segments (its HLS reader
 * opens them without the TLS options), so ffmpeg reads https mapped to plain http through the
 * guard proxy, which makes the TLS connection itself. Real ffmpeg, real TLS servers on
 * 127.0.0.1: `good` has a certificate signed by a test CA the proxy is told to trust; `rogue`
 * presents a self-signed certificate for the same address.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecurityConfig } from '../../../shared/config.js';
import { resolveThresholds } from '../../../shared/thresholds.js';
import { guardedGet } from '../../../worker/delivery/guardedGet.js';
import { type Exchange, GuardProxy } from '../../../worker/egress/GuardProxy.js';
import { originalText, originalUrl, plainDocument, plainUrl } from '../../../worker/egress/plainUrl.js';
import { StreamPipeline } from '../../../worker/pipeline/StreamPipeline.js';
import { fixturePath, fixturesReady } from '../../fixtures/generate.js';

// The fixture clips are made in the background (test/fixtures/globalSetup.ts).
beforeAll(() => fixturesReady(['clean.ts']));

const tlsDir = join(import.meta.dirname, '../../fixtures/tls');
const pem = (name: string) => readFileSync(join(tlsDir, name), 'utf8');
const security: SecurityConfig = {
  localMode: false,
  allowFiles: false,
  allowedNetworks: ['127.0.0.1/32'],
  tlsCa: [pem('ca.crt')],
};
const logger = pino({ level: 'silent' });

let clip: Buffer;
let good: Server;
let rogue: Server;
let goodUrl: string;
let rogueUrl: string;
const rogueHits: string[] = [];
const goodHits: string[] = [];

function playlist(segment: string): string {
  return `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:12\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:12.0,\n${segment}\n#EXT-X-ENDLIST\n`;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  clip = readFileSync(fixturePath('clean.ts'));
  rogue = createServer({ key: pem('rogue.key'), cert: pem('rogue.crt') }, (req, res) => {
    rogueHits.push(req.url ?? '');
    if (req.url === '/live.m3u8') res.end(playlist('seg.ts'));
    else res.end(clip);
  });
  rogueUrl = await listen(rogue);
  good = createServer({ key: pem('server.key'), cert: pem('server.crt') }, (req, res) => {
    goodHits.push(req.url ?? '');
    const routes: Record<string, () => void> = {
      '/relative.m3u8': () => res.end(playlist('seg.ts')),
      '/to-rogue.m3u8': () => res.end(playlist(`${rogueUrl}/seg.ts`)),
      '/redirect.m3u8': () => res.writeHead(302, { location: `${goodUrl}/relative.m3u8` }).end(),
      '/seg.ts': () => res.end(clip),
    };
    (routes[req.url ?? ''] ?? (() => res.writeHead(404).end()))();
  });
  goodUrl = await listen(good);
});
afterAll(() => {
  good.close();
  rogue.close();
});

async function monitor(source: string, verifyTls = true) {
  const proxy = new GuardProxy(security, logger);
  const key = `st_tls${Math.random()}#all`;
  const via = await proxy.open(key, { verifyTls });
  const exchanges: Exchange[] = [];
  proxy.watch(key, (e) => exchanges.push(e));
  const pipeline = new StreamPipeline({
    streamId: key,
    source,
    kind: 'http',
    live: false,
    realtime: false,
    thresholds: resolveThresholds(),
    detectors: ['video.black', 'stream.loss'],
    expect: { audio: true, video: true },
    logger,
    onEvent: () => {},
    inputArgs: ['-http_proxy', via],
  });
  const result = await pipeline.runOnce();
  const problem = proxy.problem(key);
  await proxy.stop();
  return { result, exchanges, problem };
}

describe('https URLs mapped for ffmpeg', () => {
  it('maps and maps back: host, port, credentials, IPv6, and only the authority of a document', () => {
    expect(plainUrl('https://cdn.example/a/b.m3u8?t=1')).toBe(
      'http://cdn.example.tls.streamqc.invalid:443/a/b.m3u8?t=1',
    );
    expect(plainUrl('https://u:p@CDN.example:8443/x')).toBe(
      'http://u:p@cdn.example.tls.streamqc.invalid:8443/x',
    );
    expect(plainUrl('https://[2001:db8::1]/x')).toBe('http://i6-2001-db8--1.tls.streamqc.invalid:443/x');
    expect(plainUrl('http://plain.example/x')).toBe('http://plain.example/x');
    for (const url of [
      'https://cdn.example/a/b.m3u8?t=1',
      'https://u:p@cdn.example:8443/x',
      'https://[2001:db8::1]/x',
    ])
      expect(originalUrl(plainUrl(url))).toBe(url);
    expect(
      plainDocument(
        '#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI="https://keys.example/k"\nhttps://a.example/s 1.ts\nrel.ts\n',
      ),
    ).toBe(
      '#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI="http://keys.example.tls.streamqc.invalid:443/k"\nhttp://a.example.tls.streamqc.invalid:443/s 1.ts\nrel.ts\n',
    );
    expect(originalText('Failed to open segment http://a.example.tls.streamqc.invalid:443/s.ts')).toBe(
      'Failed to open segment https://a.example/s.ts',
    );
  });
});

describe('https sources through the guard proxy, with real ffmpeg', () => {
  it('decodes an https playlist and its segments, verified, and the proxy sees the https downloads', async () => {
    const { result, exchanges } = await monitor(`${goodUrl}/relative.m3u8`);

    expect(result.error).toBeNull();
    expect(result.frames).toBeGreaterThan(100);
    const segment = exchanges.find((e) => e.url === `${goodUrl}/seg.ts`);
    expect(segment?.status).toBe(200);
    expect(segment?.body?.equals(clip)).toBe(true);
  });

  it('follows a redirect to another https URL, still verified', async () => {
    const { result } = await monitor(`${goodUrl}/redirect.m3u8`);

    expect(result.frames).toBeGreaterThan(100);
  });

  it('refuses a segment on a server whose certificate is not trusted: no request reaches it', async () => {
    rogueHits.length = 0;

    const { result, problem } = await monitor(`${goodUrl}/to-rogue.m3u8`);

    expect(result.frames).toBe(0);
    expect(rogueHits).toEqual([]);
    expect(problem).toMatch(/TLS certificate of 127\.0\.0\.1 not accepted: self[- ]signed certificate/);
  });

  it('refuses a playlist on an untrusted server, and says so', async () => {
    rogueHits.length = 0;

    const { result, problem } = await monitor(`${rogueUrl}/live.m3u8`);

    expect(result.frames).toBe(0);
    expect(rogueHits).toEqual([]);
    expect(problem).toMatch(/certificate/);
    expect(`${result.error?.message ?? ''}`).toContain(`${rogueUrl}/live.m3u8`);
  });

  it('accepts any certificate for a stream that opted out (verifyTls: false)', async () => {
    rogueHits.length = 0;

    const { result } = await monitor(`${goodUrl}/to-rogue.m3u8`, false);

    expect(result.frames).toBeGreaterThan(100);
    expect(rogueHits).toContain('/seg.ts');
  });

  it('refuses CONNECT tunnels (nothing may bypass the verifying path)', async () => {
    const proxy = new GuardProxy(security, logger);
    const via = new URL(await proxy.open('st_connect#all'));
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({
        host: via.hostname,
        port: via.port,
        method: 'CONNECT',
        path: rogueUrl.slice(8),
      });
      req.on('connect', (res, socket) => {
        socket.destroy();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    await proxy.stop();

    expect(status).toBe(403);
  });
});

describe("the delivery monitor's own client", () => {
  it('verifies certificates, unless the stream opted out', async () => {
    const options = { timeoutMs: 5000, maxBytes: 1 << 20 };

    await expect(guardedGet(`${goodUrl}/relative.m3u8`, { ...options, security })).resolves.toMatchObject({
      status: 200,
    });
    await expect(guardedGet(`${rogueUrl}/live.m3u8`, { ...options, security })).rejects.toThrow(
      /self[- ]signed/,
    );
    await expect(
      guardedGet(`${rogueUrl}/live.m3u8`, { ...options, security: { ...security, verifyTls: false } }),
    ).resolves.toMatchObject({ status: 200 });
  });
});
