/**
 * readPipe on a real child's output pipe: every byte arrives, in order, through a buffer reused
 * from read to read (the `onread` socket, not the stream child_process made), and the child's
 * 'close' still comes once the pipe has ended.
 */
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readPipe } from '../../../worker/converter/pipeReader.js';

describe('readPipe', () => {
  it('hands on every byte of a child pipe, in order, and ends', async () => {
    const size = 3_000_000;
    // The child writes a known pattern on fd 3 in uneven writes, then exits.
    const script = `
      const fs = require('node:fs');
      const all = Buffer.alloc(${size});
      for (let i = 0; i < all.length; i++) all[i] = (i * 7 + (i >> 10)) & 0xff;
      for (let at = 0, n = 1; at < all.length; at += n, n = (n * 3 + 1) % 300000 + 1)
        for (let off = at; off < Math.min(all.length, at + n); )
          off += fs.writeSync(3, all, off, Math.min(all.length, at + n) - off);
    `;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'ignore', 'inherit', 'pipe'] });
    const original = child.stdio[3] as Readable;
    const received: number[] = [];
    const buffers = new Set<ArrayBufferLike>();
    let reads = 0;
    const pipe = readPipe(original, (bytes) => {
      reads++;
      buffers.add(bytes.buffer);
      for (const b of bytes) received.push(b);
    });
    const ended = new Promise((resolve) => pipe.once('close', resolve));
    const closed = new Promise((resolve) => child.once('close', resolve));
    await Promise.all([ended, closed]);
    expect(pipe).not.toBe(original);
    expect(buffers.size).toBe(1);
    expect(received.length).toBe(size);
    const wrong = received.findIndex((b, i) => b !== ((i * 7 + (i >> 10)) & 0xff));
    expect(wrong).toBe(-1);
    expect(reads).toBeGreaterThan(1);
  });
});
