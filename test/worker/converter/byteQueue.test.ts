/**
 * ByteQueue: frames cut from reads of any size — inside one read, across reads, after bytes kept
 * from earlier ones — come out whole and in order, and a read's buffer may be reused after feed.
 */
import { describe, expect, it } from 'vitest';
import { ByteQueue } from '../../../worker/converter/ByteQueue.js';

describe('ByteQueue', () => {
  it('cuts the same frames whatever the reads, reusing one read buffer', () => {
    const stream = Uint8Array.from({ length: 50_000 }, (_, i) => (i * 31 + (i >> 8)) & 0xff);
    const frame = 1_234;
    for (const readSize of [1, 7, 1_234, 1_235, 4_096, 50_000]) {
      const queue = new ByteQueue(16);
      const buffer = new Uint8Array(readSize);
      const frames: Uint8Array[] = [];
      let skipped = 0;
      for (let at = 0; at < stream.length; at += readSize) {
        const n = Math.min(readSize, stream.length - at);
        buffer.set(stream.subarray(at, at + n));
        queue.feed(buffer.subarray(0, n), () => {
          while (queue.length >= frame) {
            // Every fifth frame is dropped, the way the converter skips repeated media.
            if ((frames.length + skipped) % 5 === 4) {
              queue.skip(frame);
              skipped++;
            } else frames.push(queue.take(frame));
          }
        });
        buffer.fill(0xee);
      }
      const expected: number[] = [];
      for (let k = 0; k < frames.length + skipped; k++)
        if (k % 5 !== 4) expected.push(...stream.subarray(k * frame, (k + 1) * frame));
      expect(frames.flatMap((f) => [...f])).toEqual(expected);
      expect(queue.length).toBe(stream.length - (frames.length + skipped) * frame);
      expect(frames.every((f) => f.constructor === Uint8Array)).toBe(true);
    }
  });

  it('takes into the array it is given when the size matches', () => {
    const queue = new ByteQueue();
    const scratch = new Uint8Array(4);
    queue.feed(Uint8Array.of(1, 2, 3, 4, 5, 6), () => {
      expect(queue.take(4, scratch)).toBe(scratch);
    });
    expect([...scratch]).toEqual([1, 2, 3, 4]);
    expect([...queue.take(2, scratch)]).toEqual([5, 6]);
  });
});
