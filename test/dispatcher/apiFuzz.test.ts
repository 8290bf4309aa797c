/**
 * A property test of the HTTP API: random methods, paths, headers and bodies, sent as raw bytes to
 * the local adapter on 127.0.0.1. Never a 5xx, the server keeps answering, and nothing is stored by
 * a request that was refused (a request that never finishes its body may get no answer before the
 * test gives up on it).
 */
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYS, startTestApi, type TestApi } from '../helpers/apiServer.js';

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({ maxBodyBytes: 2048 });
});

afterAll(async () => {
  await api.close();
});

/** Sends one raw request; resolves with the status code of the answer (0: none). */
function send(bytes: Buffer): Promise<number> {
  const { port } = new URL(api.url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1');
    let reply = '';
    socket.setTimeout(5000, () => socket.destroy());
    socket.on('data', (b) => {
      reply += b.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? 0)));
    socket.end(bytes);
  });
}

const token = fc.stringMatching(/^[A-Za-z0-9._~%-]{0,12}$/);
const method = fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'HEAD', 'get', 'BREW');
const path = fc.oneof(
  fc.constantFrom(
    '/streams',
    '/streams/',
    '/health',
    '/streams/st_x/defects',
    '//',
    '//:99999',
    '/%00',
    '/streams?limit=-1',
  ),
  fc.array(token, { maxLength: 4 }).map((parts) => `/${parts.join('/')}`),
  fc.tuple(token, token).map(([a, b]) => `/streams/${a}?cursor=${b}`),
);
const jsonish = fc.oneof(
  fc.json(),
  fc
    .record(
      {
        url: fc.oneof(
          fc.constantFrom(
            'udp://203.0.113.5:5000',
            'http://[::ffff:a9fe:a9fe]/',
            'file:///etc/passwd',
            'srt://10.0.0.1:1',
          ),
          fc.string(),
        ),
        name: fc.string(),
        detectors: fc.array(fc.string(), { maxLength: 3 }),
        thresholds: fc.object(),
        extra: fc.anything(),
      },
      { requiredKeys: [] },
    )
    .map((o) => JSON.stringify(o)),
);
const body = fc.oneof(
  fc.constant(''),
  jsonish,
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')),
  fc.nat({ max: 5000 }).map((n) => 'x'.repeat(n)),
);
const header = fc.oneof(
  fc.constantFrom(
    `Authorization: Bearer ${KEYS.alice}`,
    `Authorization: Bearer ${KEYS.bob}`,
    'Authorization: Bearer nope',
    'Authorization: Basic abc',
    'Content-Type: application/json',
    'Content-Type: text/plain',
    'Idempotency-Key: k1',
    'Transfer-Encoding: chunked',
    'Content-Length: 99999999',
  ),
  fc.tuple(token, token).map(([k, v]) => `X-${k || 'a'}: ${v}`),
);

describe('the API under random requests', () => {
  it('never answers 5xx, keeps serving, and stores nothing it refused', async () => {
    await fc.assert(
      fc.asyncProperty(method, path, fc.array(header, { maxLength: 5 }), body, async (m, p, headers, b) => {
        const before = (await api.call('GET', '/streams?limit=100')).body.items.length;
        const content = Buffer.from(b, 'latin1');
        const chunked = headers.some((h) => h.startsWith('Transfer-Encoding'));
        const lengthHeader =
          headers.some((h) => h.startsWith('Content-Length')) || chunked
            ? []
            : [`Content-Length: ${content.length}`];
        const head = [
          `${m} ${p} HTTP/1.1`,
          'Host: 127.0.0.1',
          ...headers,
          ...lengthHeader,
          'Connection: close',
          '',
          '',
        ].join('\r\n');
        const payload = chunked
          ? Buffer.concat([
              Buffer.from(`${content.length.toString(16)}\r\n`),
              content,
              Buffer.from('\r\n0\r\n\r\n'),
            ])
          : content;

        const status = await send(Buffer.concat([Buffer.from(head, 'latin1'), payload]));
        const after = (await api.call('GET', '/streams?limit=100')).body.items.length;
        const health = await api.call('GET', '/health', { key: null });

        expect(status === 0 || status < 500, `status ${status} for ${m} ${p}`).toBe(true);
        expect(health.status).toBe(200);
        if (status >= 400 || status === 0) expect(after).toBe(before);
      }),
      { numRuns: 150 },
    );
  }, 120_000);
});
