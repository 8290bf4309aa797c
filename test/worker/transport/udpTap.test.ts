/** The worker's own UDP reader: one read for the checks and the decoder, relayed in batches. */
import { createSocket } from 'node:dgram';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { UdpTap } from '../../../worker/transport/UdpTap.js';
import { freeUdpPort } from '../../helpers/liveOrigin.js';
import { monitorUdp } from '../../helpers/udpMonitor.js';

const logger = pino({ level: 'silent' });

/** A datagram of 7 null TS packets whose payload bytes carry its sequence number. */
function datagram(n: number): Buffer {
  const b = Buffer.alloc(7 * 188, 0xff);
  for (let p = 0; p < 7; p++) {
    b[p * 188] = 0x47;
    b[p * 188 + 1] = 0x1f;
    b[p * 188 + 2] = 0xff;
    b[p * 188 + 3] = 0x10 | ((n + p) % 16);
    b.writeUInt32BE(n, p * 188 + 4);
  }
  return b;
}

describe('UdpTap', () => {
  it('relays every byte in order, a burst of datagrams in fewer, larger ones', async () => {
    const port = await freeUdpPort();
    const tap = await UdpTap.open(`udp://127.0.0.1:${port}`, logger);
    const relayPort = Number(new URL(tap.url).port);
    expect(tap.url).toMatch(/\?pkt_size=65424$/);
    const reader = createSocket('udp4');
    await new Promise<void>((r) => reader.bind(relayPort, '127.0.0.1', () => r()));
    const received: Buffer[] = [];
    reader.on('message', (m) => received.push(m));
    const sender = createSocket('udp4');
    const sent = Array.from({ length: 200 }, (_, i) => datagram(i));

    for (const d of sent) sender.send(d, port, '127.0.0.1');
    const deadline = Date.now() + 5000;
    while (Buffer.concat(received).length < 200 * 7 * 188 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    tap.close();
    reader.close();
    sender.close();

    expect(Buffer.concat(received).equals(Buffer.concat(sent))).toBe(true);
    expect(received.length).toBeLessThan(sent.length);
  });

  it('closes cleanly while datagrams are still arriving', async () => {
    for (let round = 0; round < 10; round++) {
      const port = await freeUdpPort();
      const tap = await UdpTap.open(`udp://127.0.0.1:${port}`, logger);
      const relayPort = Number(new URL(tap.url).port);
      const reader = createSocket('udp4');
      await new Promise<void>((r) => reader.bind(relayPort, '127.0.0.1', () => r()));
      const sender = createSocket('udp4');
      let n = 0;
      const flood = setInterval(() => {
        for (let k = 0; k < 50; k++) sender.send(datagram(n++), port, '127.0.0.1');
      }, 1);
      // Closed from an I/O callback, in the same turn as the tap's own reads.
      await new Promise<void>((resolve) =>
        reader.once('message', () => {
          tap.close();
          resolve();
        }),
      );
      await new Promise((r) => setTimeout(r, 30));
      clearInterval(flood);
      reader.close();
      sender.close();
      expect(tap.closed).toBe(true);
    }
  });
});

describe('a UDP source the worker reads itself', () => {
  it("names the source's address in its errors, not the loopback relay FFmpeg reads", async () => {
    const port = await freeUdpPort();
    const pipeline = monitorUdp('st_udpname', port, ['transport.sync', 'video.black'], () => {});
    const sender = createSocket('udp4');
    // Not a transport stream: FFmpeg gives up on it once it has read its probe size.
    const garbage = Buffer.alloc(1316, 0x11);
    const flood = setInterval(() => {
      for (let i = 0; i < 200; i++) sender.send(garbage, port, '127.0.0.1');
    }, 20);

    const result = await pipeline.runOnce();
    clearInterval(flood);
    await pipeline.stop();
    sender.close();

    expect(result.error?.message).toContain(`udp://127.0.0.1:${port}`);
    expect(result.error?.message).not.toMatch(/pkt_size/);
  });
});
