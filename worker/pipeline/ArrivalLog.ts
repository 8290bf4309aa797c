/**
 * When media arrived: a bounded log of (media time, wall-clock arrival) pairs, so an incident's
 * `wallStart`/`wallEnd` say when its frames reached the monitor, not a guess from the media clock.
 */

/** Samples kept: at one a tenth of a second of media, about seven minutes. */
const CAPACITY = 4096;
/** Media seconds between two samples. */
const RESOLUTION = 0.1;

export class ArrivalLog {
  private readonly media = new Float64Array(CAPACITY);
  private readonly wall = new Float64Array(CAPACITY);
  private start = 0;
  private count = 0;

  /** Records that media time t arrived at wallMs (kept every RESOLUTION seconds of media). */
  record(t: number, wallMs: number): void {
    if (this.count > 0) {
      const last = (this.start + this.count - 1) % CAPACITY;
      if (t < this.media[last] + RESOLUTION) return;
    }
    const at = (this.start + this.count) % CAPACITY;
    this.media[at] = t;
    this.wall[at] = wallMs;
    if (this.count < CAPACITY) this.count++;
    else this.start = (this.start + 1) % CAPACITY;
  }

  /**
   * Wall-clock time (ms) at which media time t arrived: the arrival of the first sample at or after
   * t; beyond the newest sample, the newest arrival plus the media time since (an ongoing incident).
   */
  wallAt(t: number, fallbackMs: number): number {
    if (this.count === 0) return fallbackMs;
    let lo = 0;
    let hi = this.count - 1;
    const newest = (this.start + hi) % CAPACITY;
    if (t > this.media[newest]) return this.wall[newest] + (t - this.media[newest]) * 1000;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.media[(this.start + mid) % CAPACITY] < t) lo = mid + 1;
      else hi = mid;
    }
    const at = (this.start + lo) % CAPACITY;
    if (lo === 0 && t < this.media[at]) return this.wall[at] - (this.media[at] - t) * 1000;
    return this.wall[at];
  }
}
