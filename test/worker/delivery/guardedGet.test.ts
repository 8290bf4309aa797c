/** The delivery monitor's own HTTP client keeps one deadline for the whole request, headers included. */

import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FetchError, guardedGet } from '../../../worker/delivery/guardedGet.js';

let server: Server;
const sockets = new Set<Socket>();
let base = '';

beforeAll(async () => {
  // Sends a status line, then one header byte every 200 ms, for ever: the socket is never idle.
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.write('HTTP/1.1 200 OK\r\nX-Slow: ');
    const drip = setInterval(() => socket.write('a'), 200);
    socket.on('close', () => clearInterval(drip));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  for (const s of sockets) s.destroy();
  server.close();
});

describe('a playlist request to a server that drips its headers', () => {
  it('fails with the reason once the deadline passes, however steadily the bytes come', async () => {
    const security = { localMode: true, allowFiles: false, allowedNetworks: [] };

    const failure = await guardedGet(`${base}/live.m3u8`, {
      security,
      timeoutMs: 1500,
      maxBytes: 1024,
    }).catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(FetchError);
    expect((failure as FetchError).message).toMatch(/response headers not complete within 1.5 s/);
  });
});
