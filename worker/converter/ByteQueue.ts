/**
 * Bytes read from a pipe, from which whole frames are cut. A read is handed in with `feed`, for
 * the length of one call: frames lying whole in it are copied straight out of it, and only what
 * is left when the call returns is kept, in one growing store (the pipe reader reuses its buffer).
 * Each frame is copied out whole: always a plain Uint8Array of its own, never a Buffer or a view
 * into the store, so the detectors' loops see one kind of array and may keep what they are handed.
 */
export class ByteQueue {
  private store: Uint8Array;
  private start = 0;
  private end = 0;
  /** The read being fed, and how much of it is taken. */
  private read: Uint8Array | null = null;
  private readAt = 0;

  constructor(initialBytes = 256 * 1024) {
    this.store = new Uint8Array(initialBytes);
  }

  /** Bytes waiting. */
  get length(): number {
    return this.end - this.start + (this.read ? this.read.length - this.readAt : 0);
  }

  /**
   * Makes `bytes` (valid only during this call) the next bytes of the queue while `consume` takes
   * frames, then keeps a copy of what it left.
   */
  feed(bytes: Uint8Array, consume: () => void): void {
    this.read = bytes;
    this.readAt = 0;
    try {
      consume();
    } finally {
      const left = bytes.subarray(this.readAt);
      this.read = null;
      this.append(left);
    }
  }

  /**
   * Removes the next n bytes, copied into `into` when it has that size (no allocation per frame),
   * else into a new array; the caller checks `length >= n` first.
   */
  take(n: number, into?: Uint8Array): Uint8Array {
    const out = into?.length === n ? into : new Uint8Array(n);
    const stored = Math.min(n, this.end - this.start);
    out.set(this.store.subarray(this.start, this.start + stored));
    this.dropStored(stored);
    if (stored < n && this.read) {
      out.set(this.read.subarray(this.readAt, this.readAt + n - stored), stored);
      this.readAt += n - stored;
    }
    return out;
  }

  /** Drops the next n bytes (the caller checks `length >= n` first). */
  skip(n: number): void {
    const stored = Math.min(n, this.end - this.start);
    this.dropStored(stored);
    this.readAt += n - stored;
  }

  private dropStored(n: number): void {
    this.start += n;
    if (this.start === this.end) {
      this.start = 0;
      this.end = 0;
    }
  }

  private append(bytes: Uint8Array): void {
    const n = bytes.length;
    if (n === 0) return;
    if (this.end + n > this.store.length) this.makeRoom(n);
    this.store.set(bytes, this.end);
    this.end += n;
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

/**
 * Frames' arrays for reuse: each goes back once two later ones were handed on (the detectors are
 * done with a frame by then), so a run allocates only the few in flight at once.
 */
export class FramePool {
  private readonly free: Uint8Array[] = [];
  private readonly handed: Uint8Array[] = [];

  /** A free array of the size, or a new one. */
  get(size: number): Uint8Array {
    const free = this.free.pop();
    return free?.length === size ? free : new Uint8Array(size);
  }

  /** The array was handed on. */
  handedOn(array: Uint8Array): void {
    this.handed.push(array);
    if (this.handed.length > 2) this.free.push(this.handed.shift() as Uint8Array);
  }
}
