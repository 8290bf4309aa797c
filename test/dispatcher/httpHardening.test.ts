/**
 * The local HTTP adapter against requests no client library would send: raw bytes on a socket to
 * 127.0.0.1. Every one gets a clear 4xx, nothing is stored, and the server keeps answering.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYS, startTestApi, type TestApi } from '../helpers/apiServer.js';

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({ maxBodyBytes: 1024 });
});

afterAll(async () => {
  await api.close();
});

/** Sends raw bytes, returns the status line's code (0 when the server closed without a response). */
function raw(bytes: string | Buffer): Promise<number> {
  const { port } = new URL(api.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let reply = '';
    socket.on('data', (b) => {
      reply += b.toString('latin1');
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? 0)));
    socket.end(bytes);
  });
}

const auth = `Authorization: Bearer ${KEYS.alice}\r\n`;

async function streamCount(): Promise<number> {
  return (await api.call('GET', '/streams')).body.items.length;
}

describe('requests that must not take the server down', () => {
  it.each([
    ['GET // (no path)', 'GET // HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['GET //:99999 (an authority, not a path)', 'GET //:99999 HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['an absolute-form target to another host', 'GET http://169.254.169.254/ HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['a request line that is no HTTP', 'HELLO\r\n\r\n'],
  ])('answers %s with a 400 and keeps serving', async (_what, request) => {
    const status = await raw(request);
    const health = await api.call('GET', '/health', { key: null });

    expect(status).toBe(400);
    expect(health.status).toBe(200);
  });
});

describe('bodies', () => {
  it('answers a chunked body over the limit with 413, storing nothing', async () => {
    const before = await streamCount();
    const chunk = 'a'.repeat(600);
    const body = `${(600).toString(16)}\r\n${chunk}\r\n${(600).toString(16)}\r\n${chunk}\r\n0\r\n\r\n`;

    const status = await raw(
      `POST /streams HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${body}`,
    );

    expect(status).toBe(413);
    expect(await streamCount()).toBe(before);
  });

  it('refuses a body that is not valid UTF-8 with 400', async () => {
    const before = await streamCount();
    const json = Buffer.concat([
      Buffer.from('{"url":"udp://203.0.113.5:5000","name":"'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}'),
    ]);

    const status = await raw(
      Buffer.concat([
        Buffer.from(
          `POST /streams HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: ${json.length}\r\nConnection: close\r\n\r\n`,
        ),
        json,
      ]),
    );

    expect(status).toBe(400);
    expect(await streamCount()).toBe(before);
  });

  it('refuses a body that is not JSON by its content type with 415', async () => {
    const response = await api.call('POST', '/streams', {
      raw: JSON.stringify({ url: 'udp://203.0.113.5:5000' }),
      headers: { 'content-type': 'text/plain' },
    });

    expect(response.status).toBe(415);
    expect(response.body.error.code).toBe('unsupported_media_type');
  });
});

describe('error messages', () => {
  it('do not echo a 5,000-character id whole', async () => {
    const response = await api.call('GET', `/streams/${'x'.repeat(5000)}`);

    expect(response.status).toBe(404);
    expect(response.body.error.message.length).toBeLessThan(100);
  });
});
