/**
 * Bytes read from a pipe, from which whole frames are cut. Each read is appended to one growing
 * store (the pipe reader reuses its buffer, so the bytes are copied once on arrival) and each
 * frame is copied out whole: always a plain Uint8Array of its own, never a Buffer or a view into
 * the store, so the detectors' loops see one kind of array and may keep what they are handed.
 */
export class ByteQueue {
  private store: Uint8Array;
  private start = 0;
  private end = 0;

  constructor(initialBytes = 256 * 1024) {
    this.store = new Uint8Array(initialBytes);
  }

  /** Bytes waiting. */
  get length(): number {
    return this.end - this.start;
  }

  /** Appends a copy of `bytes`. */
  push(bytes: Uint8Array): void {
    const n = bytes.length;
    if (this.end + n > this.store.length) this.makeRoom(n);
    this.store.set(bytes, this.end);
    this.end += n;
  }

  /**
   * Removes the next n bytes, copied into `into` when it has that size (no allocation per frame),
   * else into a new array; the caller checks `length >= n` first.
   */
  take(n: number, into?: Uint8Array): Uint8Array {
    const out = into?.length === n ? into : new Uint8Array(n);
    out.set(this.store.subarray(this.start, this.start + n));
    this.skip(n);
    return out;
  }

  /** Drops the next n bytes (the caller checks `length >= n` first). */
  skip(n: number): void {
    this.start += n;
    if (this.start === this.end) {
      this.start = 0;
      this.end = 0;
    }
  }

  /** Moves the waiting bytes to the front, growing the store when they and n more do not fit. */
  private makeRoom(n: number): void {
    const waiting = this.end - this.start;
    if (waiting + n > this.store.length) {
      const grown = new Uint8Array(Math.max(2 * this.store.length, waiting + n));
      grown.set(this.store.subarray(this.start, this.end));
      this.store = grown;
    } else {
      this.store.copyWithin(0, this.start, this.end);
    }
    this.start = 0;
    this.end = waiting;
  }
}
