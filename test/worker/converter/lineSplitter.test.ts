/** LineSplitter: lines whole and in order whatever the reads, characters never cut in two. */
import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../../worker/converter/LineSplitter.js';

describe('LineSplitter', () => {
  it('gives the same lines for any cut of the bytes, \\r\\n included, the last line at the end', () => {
    const text =
      'frame= n:0 pts:0\r\nErreur à l’entrée: ünïcödé 🎬\n\n[info] color_range:tv\nno newline at the end';
    const bytes = new TextEncoder().encode(text);
    const expected = [
      'frame= n:0 pts:0',
      'Erreur à l’entrée: ünïcödé 🎬',
      '',
      '[info] color_range:tv',
      'no newline at the end',
    ];
    for (const size of [1, 2, 3, 5, 17, bytes.length]) {
      const lines: string[] = [];
      const splitter = new LineSplitter((line) => lines.push(line));
      const buffer = new Uint8Array(size);
      for (let at = 0; at < bytes.length; at += size) {
        const n = Math.min(size, bytes.length - at);
        buffer.set(bytes.subarray(at, at + n));
        splitter.push(buffer.subarray(0, n));
        buffer.fill(0);
      }
      splitter.end();
      expect(lines).toEqual(expected);
    }
  });
});
