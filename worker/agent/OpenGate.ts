/**
 * Admission for the expensive moment of a unit's life: opening its source (probe, decoder start,
 * first frames). A worker handed many units at once (an onboarding script, a takeover, a deploy)
 * opens them a few at a time and at a bounded rate instead of all at once, so the opens finish
 * and the running streams keep their time. Re-opens of a unit that was running go first: a stream
 * already watched matters more than one not yet started. Among equals, the owner with the fewest
 * opens in flight goes next: one owner's burst of registrations queues behind itself, not in
 * front of another owner's streams.
 */

export interface OpenGateOptions {
  /** Opens in flight at most. */
  concurrency: number;
  /** Least time between two opens starting, ms (the rate). */
  intervalMs: number;
  /** An open slot is given back after this long even if its holder never says so, ms. */
  holdLimitMs: number;
}

/** Gives the slot back; safe to call more than once. */
export type ReleaseOpen = () => void;

interface Waiter {
  urgent: boolean;
  owner: string;
  grant: (release: ReleaseOpen) => void;
  cancel: () => void;
}

/** The gate was closed for this waiter (its unit stopped) before a slot came free. */
export class OpenCancelledError extends Error {
  constructor() {
    super('open cancelled: the unit was stopped while waiting for an open slot');
    this.name = 'OpenCancelledError';
  }
}

export class OpenGate {
  private inFlight = 0;
  private lastGrant = 0;
  private readonly queue: Waiter[] = [];
  /** Opens in flight per owner. */
  private readonly byOwner = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  /** Most opens ever in flight at once (for tests and metrics). */
  peakInFlight = 0;
  /** Opens granted so far. */
  granted = 0;

  constructor(private readonly options: OpenGateOptions) {}

  /** Opens running now. */
  get opening(): number {
    return this.inFlight;
  }

  /** Units waiting for a slot. */
  get queued(): number {
    return this.queue.length;
  }

  /** Slots that are free now and not promised to a waiter. */
  get free(): number {
    return Math.max(0, this.options.concurrency - this.inFlight - this.queue.length);
  }

  /**
   * Waits for an open slot. `urgent` (a unit that was running) goes ahead of first opens. Rejects
   * with OpenCancelledError when `signal` aborts first.
   */
  acquire(urgent: boolean, signal?: AbortSignal, owner = ''): Promise<ReleaseOpen> {
    if (signal?.aborted) return Promise.reject(new OpenCancelledError());
    return new Promise<ReleaseOpen>((resolve, reject) => {
      const waiter: Waiter = {
        urgent,
        owner,
        grant: (release) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
        cancel: () => reject(new OpenCancelledError()),
      };
      const onAbort = () => {
        const i = this.queue.indexOf(waiter);
        if (i >= 0) this.queue.splice(i, 1);
        waiter.cancel();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (urgent) {
        const firstNormal = this.queue.findIndex((w) => !w.urgent);
        this.queue.splice(firstNormal < 0 ? this.queue.length : firstNormal, 0, waiter);
      } else this.queue.push(waiter);
      this.pump();
    });
  }

  /** The waiter to grant next: urgent ones first, then the owner with the fewest opens in flight, then FIFO. */
  private next(): number {
    let best = 0;
    const rank = (w: Waiter) => (w.urgent ? 0 : 1_000_000) + (this.byOwner.get(w.owner) ?? 0);
    for (let i = 1; i < this.queue.length; i++) if (rank(this.queue[i]) < rank(this.queue[best])) best = i;
    return best;
  }

  private pump(): void {
    if (this.timer) return;
    while (this.queue.length && this.inFlight < this.options.concurrency) {
      const wait = this.lastGrant + this.options.intervalMs - Date.now();
      if (wait > 0) {
        this.timer = setTimeout(() => {
          this.timer = null;
          this.pump();
        }, wait);
        return;
      }
      const waiter = this.queue.splice(this.next(), 1)[0];
      const owner = waiter.owner;
      this.byOwner.set(owner, (this.byOwner.get(owner) ?? 0) + 1);
      this.inFlight++;
      this.granted++;
      this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
      this.lastGrant = Date.now();
      let released = false;
      const limit = setTimeout(() => release(), this.options.holdLimitMs);
      const release = () => {
        if (released) return;
        released = true;
        clearTimeout(limit);
        this.inFlight--;
        const left = (this.byOwner.get(owner) ?? 1) - 1;
        if (left > 0) this.byOwner.set(owner, left);
        else this.byOwner.delete(owner);
        this.pump();
      };
      waiter.grant(release);
    }
  }
}
