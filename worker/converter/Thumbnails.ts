/**
 * The thumbnail pipe: ffmpeg's JPEGs cut out of the byte stream, each dated with the media time
 * of the picture it shows. The thumbnail branch's showinfo gives each JPEG's source timestamp;
 * the media clock places that same picture when the analysis branch announces it, so a JPEG is
 * handed on once its picture has been placed (or dropped when the clock skipped that picture:
 * media already analysed).
 */

/** JPEGs held waiting for their time; more than this means the two branches disagree: drop. */
const MAX_PENDING = 8;
/** Source timestamps remembered with their media time, newest last. */
const PLACED_KEPT = 64;
/** A JPEG larger than this is not a thumbnail: the stream is out of step; start again. */
const MAX_JPEG_BYTES = 1 << 20;

export class Thumbnails {
  private buffer: Buffer = Buffer.alloc(0);
  /** Source timestamps of the JPEGs announced and not yet cut from the pipe. */
  private readonly announced: (number | null)[] = [];
  private readonly pending: { pts: number | null; jpeg: Buffer }[] = [];
  private readonly placedTimes: { pts: number | null; t: number | null }[] = [];

  constructor(private readonly handOn: (jpeg: Buffer, t: number) => void) {}

  /** The thumbnail branch announced a picture (its JPEG follows on the pipe). */
  header(pts: number | null): void {
    this.announced.push(pts);
    this.cut();
  }

  /** The analysis branch's picture with this source timestamp got media time t (null: skipped). */
  placed(pts: number | null, t: number | null): void {
    this.placedTimes.push({ pts, t });
    if (this.placedTimes.length > PLACED_KEPT) this.placedTimes.shift();
    this.release();
  }

  /** Bytes from the thumbnail pipe. */
  bytes(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    if (this.buffer.length > MAX_JPEG_BYTES) this.buffer = Buffer.alloc(0);
    this.cut();
  }

  /** ffmpeg has exited: whatever is complete and placed goes on. */
  end(): void {
    this.cut();
    this.release();
  }

  private cut(): void {
    while (this.announced.length > 0) {
      // Anything before a start of image is not a thumbnail (ffmpeg writes whole JPEGs).
      const start = this.buffer.indexOf(SOI);
      if (start < 0) {
        this.buffer = this.buffer.subarray(Math.max(0, this.buffer.length - 2));
        return;
      }
      if (start > 0) this.buffer = this.buffer.subarray(start);
      const end = jpegEnd(this.buffer);
      if (end === -1) return;
      if (end === -2) {
        this.buffer = this.buffer.subarray(2);
        continue;
      }
      const jpeg = Buffer.from(this.buffer.subarray(0, end));
      this.buffer = this.buffer.subarray(end);
      this.pending.push({ pts: this.announced.shift() ?? null, jpeg });
      if (this.pending.length > MAX_PENDING) this.pending.shift();
    }
    this.release();
  }

  private release(): void {
    while (this.pending.length > 0) {
      const { pts, jpeg } = this.pending[0];
      const match = this.placedTimes.find((p) => p.pts === pts);
      if (!match) {
        // Not placed yet; unless the analysis branch is already past it (then it never will be).
        const newest = this.placedTimes.at(-1)?.pts;
        if (pts !== null && newest != null && newest > pts + 1) this.pending.shift();
        else if (pts === null) this.pending.shift();
        else return;
        continue;
      }
      this.pending.shift();
      if (match.t !== null) this.handOn(jpeg, match.t);
    }
  }
}

const SOI = Buffer.from([0xff, 0xd8, 0xff]);

/**
 * Where the JPEG at the start of `data` ends (after its EOI marker): -1 while incomplete, -2 when
 * the bytes are no JPEG. Segments are walked by their lengths up to the scan; in the entropy-coded
 * data a 0xFF byte is followed by 0x00 (stuffing) or a restart marker, so the first FF D9 there
 * is the end.
 */
export function jpegEnd(data: Buffer): number {
  if (data.length < 4) return -1;
  if (data[0] !== 0xff || data[1] !== 0xd8) return -2;
  let i = 2;
  while (i + 4 <= data.length) {
    if (data[i] !== 0xff) return -2;
    const marker = data[i + 1];
    if (marker === 0xff) {
      i++;
      continue;
    }
    const length = data.readUInt16BE(i + 2);
    if (marker !== 0xda) {
      i += 2 + length;
      continue;
    }
    for (let j = i + 2 + length; j + 1 < data.length; j++)
      if (data[j] === 0xff && data[j + 1] === 0xd9) return j + 2;
    return -1;
  }
  return -1;
}
