/**
 * Splits a byte stream (ffmpeg's stderr) into text lines: each read decoded once up to its last
 * newline, the bytes after it kept for the next read. A newline byte never occurs inside a
 * UTF-8 sequence, so cutting there never splits a character.
 */
export class LineSplitter {
  private readonly decoder = new TextDecoder();
  /** Bytes after the last newline so far. */
  private pending = new Uint8Array(0);

  constructor(private readonly onLine: (line: string) => void) {}

  /** The next bytes (valid only during the call). */
  push(bytes: Uint8Array): void {
    const last = bytes.lastIndexOf(10);
    if (last < 0) {
      this.keep(bytes);
      return;
    }
    let upToLast = bytes.subarray(0, last);
    if (this.pending.length) {
      this.keep(upToLast);
      upToLast = this.pending;
      this.pending = new Uint8Array(0);
    }
    const text = this.decoder.decode(upToLast);
    for (const line of text.split('\n')) this.line(line);
    this.keep(bytes.subarray(last + 1));
  }

  /** The stream ended: a last line without its newline. */
  end(): void {
    if (!this.pending.length) return;
    const line = this.decoder.decode(this.pending);
    this.pending = new Uint8Array(0);
    this.line(line);
  }

  /** A line to the caller, without the \r of a \r\n ending. */
  private line(text: string): void {
    this.onLine(text.endsWith('\r') ? text.slice(0, -1) : text);
  }

  private keep(bytes: Uint8Array): void {
    if (!bytes.length) return;
    const joined = new Uint8Array(this.pending.length + bytes.length);
    joined.set(this.pending);
    joined.set(bytes, this.pending.length);
    this.pending = joined;
  }
}
