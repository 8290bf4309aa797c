/**
 * Credentials in stream URLs never leave streamqc: a stream registered with a password and a
 * token in its URL, whose origin refuses it (so FFmpeg's errors quote the URL), shows neither in
 * the worker's logs, the NDJSON events, any API answer or /metrics.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../local/localStack.js';
import { redactUrls } from '../../shared/redact.js';
import { callApi, until } from '../helpers/stackClient.js';

const PASSWORD = 'Pw0rdQx7Zk';
const TOKEN = 'Tk9Vb3Wq2Lm';
const dir = mkdtempSync(join(tmpdir(), 'streamqc-redact-'));
let stack: LocalStack;
let origin: Server;
let metricsPort = 0;

beforeAll(async () => {
  // An origin that refuses everything: the monitor's and FFmpeg's errors quote the URL.
  origin = createServer((_req, res) => {
    res.statusCode = 403;
    res.end('forbidden');
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', () => r()));
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  metricsPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  stack = await startLocalStack({
    dataDir: dir,
    port: 0,
    workers: 1,
    logger: pino({ level: 'silent' }),
    workerEnv: {
      STREAMQC_CONSOLE: '0',
      STREAMQC_METRICS_PORT: String(metricsPort),
      STREAMQC_LOG_LEVEL: 'debug',
    },
  });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  origin?.close();
});

describe('a URL with credentials', () => {
  it('masks a password and query values wherever a URL appears in text', () => {
    expect(
      redactUrls(`failed to open https://ann:${PASSWORD}@cdn.example/live.m3u8?token=${TOKEN}&x=1: 403`),
    ).toBe('failed to open https://ann:***@cdn.example/live.m3u8?token=***&x=***: 403');
    expect(redactUrls('udp://239.1.1.1:5000?pkt_size=1316')).toBe('udp://239.1.1.1:5000?pkt_size=1316');
    expect(redactUrls(`srt://relay.example:9000?passphrase=${PASSWORD}`)).toBe(
      'srt://relay.example:9000?passphrase=***',
    );
  });

  it('shows neither its password nor its token in logs, events, API answers or metrics', async () => {
    const port = (origin.address() as AddressInfo).port;
    const url = `http://ann:${PASSWORD}@127.0.0.1:${port}/live/index.m3u8?token=${TOKEN}`;
    const api = (method: string, path: string, body?: unknown) =>
      callApi(stack.url, stack.apiKey!, method, path, body);

    const created = await api('POST', '/streams', { url, name: 'with credentials' });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    // The source cannot be opened: stream.loss raised, lastError set, all quoting the URL.
    const loss = await until('stream.loss raised', 60, async () => {
      const d = await api('GET', `/streams/${id}/defects`);
      return d.body.items.find((e: { type: string }) => e.type === 'stream.loss');
    });
    // Why, as a code: the origin answered 403.
    expect(loss.detail).toMatchObject({ cause: 'http_status', status: 403 });
    const one = await api('GET', `/streams/${id}`);
    await until('lastError reported', 30, async () => {
      const s = await api('GET', `/streams/${id}`);
      return JSON.stringify(s.body.health).includes('lastError') ? true : undefined;
    });

    const seen = [
      JSON.stringify(created.body),
      JSON.stringify(one.body),
      JSON.stringify((await api('GET', `/streams/${id}`)).body),
      JSON.stringify((await api('GET', '/streams')).body),
      JSON.stringify((await api('GET', `/streams/${id}/defects`)).body),
      readFileSync(stack.ndjsonPath, 'utf8'),
      ...readdirSync(join(dir, 'logs')).map((f) => readFileSync(join(dir, 'logs', f), 'utf8')),
      await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text(),
    ].join('\n');
    expect(seen).toContain(`ann:***@127.0.0.1:${port}`);
    expect(seen).not.toContain(PASSWORD);
    expect(seen).not.toContain(TOKEN);
  });
});
