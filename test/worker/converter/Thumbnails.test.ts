/**
 * The thumbnail pipe: real JPEGs from ffmpeg's mjpeg encoder cut out of a byte stream however it
 * is chunked, each handed on with the media time the clock gave its picture.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { jpegEnd, Thumbnails } from '../../../worker/converter/Thumbnails.js';

/** Three 64×36 JPEGs of different colours, as ffmpeg's image2pipe writes them. */
function jpegs(): Buffer[] {
  const out = execFileSync('ffmpeg', [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=s=64x36:r=3:d=1',
    '-c:v',
    'mjpeg',
    '-q:v',
    '6',
    '-f',
    'image2pipe',
    '-',
  ]);
  const pictures: Buffer[] = [];
  for (let rest = out; rest.length; ) {
    const end = jpegEnd(rest);
    expect(end).toBeGreaterThan(0);
    pictures.push(rest.subarray(0, end));
    rest = rest.subarray(end);
  }
  return pictures;
}

describe('jpegEnd', () => {
  it('finds the end of each JPEG, waits for more bytes when cut short, and refuses what is no JPEG', () => {
    const [first] = jpegs();
    expect(jpegEnd(first)).toBe(first.length);
    expect(jpegEnd(first.subarray(0, first.length - 1))).toBe(-1);
    expect(jpegEnd(Buffer.from('not a picture'))).toBe(-2);
  });
});

describe('Thumbnails', () => {
  it('hands each JPEG on with its picture’s media time, whatever the chunking and order of lines', () => {
    const pictures = jpegs();
    expect(pictures.length).toBe(3);
    const got: { t: number; jpeg: Buffer }[] = [];
    const thumbs = new Thumbnails((jpeg, t) => got.push({ t, jpeg }));
    const stream = Buffer.concat([Buffer.from('junk'), ...pictures]);
    // The pictures' headers, the media clock's placements, and the bytes 7 at a time, interleaved.
    thumbs.header(10.0);
    thumbs.placed(10.0, 0);
    thumbs.placed(10.04, 0.04);
    thumbs.header(11.0);
    for (let i = 0; i < stream.length; i += 7) thumbs.bytes(stream.subarray(i, i + 7));
    thumbs.header(12.0);
    thumbs.placed(11.0, 1);
    // The third picture was announced but the clock has not placed it: held back.
    expect(got.map((g) => g.t)).toEqual([0, 1]);
    thumbs.placed(12.0, 2);
    expect(got.map((g) => g.t)).toEqual([0, 1, 2]);
    expect(got.map((g) => g.jpeg.equals(pictures[got.indexOf(g)]))).toEqual([true, true, true]);
  });

  it('drops a JPEG whose picture the clock skipped (media already analysed) or went past', () => {
    const pictures = jpegs();
    const got: number[] = [];
    const thumbs = new Thumbnails((_jpeg, t) => got.push(t));
    thumbs.header(5);
    thumbs.header(6);
    thumbs.bytes(Buffer.concat(pictures.slice(0, 2)));
    thumbs.placed(5, null);
    thumbs.placed(8, 3);
    expect(got).toEqual([]);
  });
});
