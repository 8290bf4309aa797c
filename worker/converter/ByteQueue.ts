/** A FIFO of pipe chunks from which whole frames are cut, copying only when a frame spans chunks. */
export class ByteQueue {
  private chunks: Buffer[] = [];
  private offset = 0;
  length = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /**
   * Removes and returns the next n bytes; the caller checks `length >= n` first. When the bytes
   * span chunks they are copied into `scratch` if it has the right size (no allocation per frame).
   * Always a plain Uint8Array, never a Buffer: the detectors' loops then see one kind of array and
   * V8 compiles them for it alone (a mix of the two made every element load polymorphic).
   */
  take(n: number, scratch?: Uint8Array): Uint8Array {
    const first = this.chunks[0];
    if (first.length - this.offset >= n) {
      const out = new Uint8Array(first.buffer, first.byteOffset + this.offset, n);
      this.advance(n);
      return out;
    }
    const out = scratch?.length === n ? scratch : new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0];
      const part = Math.min(n - filled, chunk.length - this.offset);
      out.set(chunk.subarray(this.offset, this.offset + part), filled);
      filled += part;
      this.advance(part);
    }
    return out;
  }

  /** Drops the next n bytes (the caller checks `length >= n` first). */
  skip(n: number): void {
    let left = n;
    while (left > 0) {
      const part = Math.min(left, this.chunks[0].length - this.offset);
      this.advance(part);
      left -= part;
    }
  }

  private advance(n: number): void {
    this.length -= n;
    this.offset += n;
    if (this.offset === this.chunks[0].length) {
      this.chunks.shift();
      this.offset = 0;
    }
  }
}
