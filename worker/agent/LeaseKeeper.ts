/**
 * Keeps a worker's fleet lease renewed from a thread of its own (worker_threads), so the lease
 * keeps its schedule however busy the main thread is with media: a worker fences itself only when
 * the registry is really out of reach, never because its event loop was late. The main thread
 * tells the lease thread what to report (load, budget, draining) and that it is still alive
 * through shared memory; the lease thread tells it when the last renewal succeeded and when the
 * fleet took the member over.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';
import type { Registry } from '../../shared/registry/Registry.js';
import { startThread } from '../../shared/startThread.js';
import { type LeaseThreadData, SLOT, SLOTS } from './leaseSlots.js';

export interface LeaseKeeperOptions {
  workerId: string;
  leaseSeconds: number;
  heartbeatSeconds: number;
}

/** How often the main thread says it is alive. */
const ALIVE_MS = 250;

export class LeaseKeeper {
  private readonly shared = new Float64Array(new SharedArrayBuffer(SLOTS * 8));
  private readonly thread: Worker;
  private readonly alive: NodeJS.Timeout;
  private readonly exited: Promise<void>;
  /** The main thread's event-loop delay, sampled every 20 ms (reset by takeLoopDelay). */
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 20 });
  private stopped = false;

  constructor(registry: Registry, options: LeaseKeeperOptions) {
    this.shared[SLOT.mainAlive] = Date.now();
    const data: LeaseThreadData & { config: unknown; env: unknown } = {
      buffer: this.shared.buffer as SharedArrayBuffer,
      workerId: options.workerId,
      leaseMs: options.leaseSeconds * 1000,
      heartbeatMs: options.heartbeatSeconds * 1000,
      mainSilenceMs: 3 * options.leaseSeconds * 1000,
      config: registry.config,
      env: { ...registry.env },
    };
    this.thread = startThread(import.meta.url, 'leaseThread', { workerData: data });
    this.exited = new Promise((resolve) => this.thread.once('exit', () => resolve()));
    this.alive = setInterval(() => {
      this.shared[SLOT.mainAlive] = Date.now();
    }, ALIVE_MS);
    this.alive.unref();
    this.loopDelay.enable();
  }

  /** Renews `memberId`'s lease from now on (after a join or a rejoin); renews at once. */
  setMember(memberId: string): void {
    this.shared[SLOT.lastOk] = Date.now();
    this.shared[SLOT.reaped] = 0;
    this.thread.postMessage({ type: 'member', memberId });
  }

  /** What the next renewals report. */
  report(state: { load: number; budget: number; draining: boolean }): void {
    this.shared[SLOT.load] = state.load;
    this.shared[SLOT.budget] = state.budget;
    this.shared[SLOT.draining] = state.draining ? 1 : 0;
  }

  /** Epoch ms at which the last successful renewal was sent. */
  get lastOk(): number {
    return this.shared[SLOT.lastOk];
  }

  get reaped(): boolean {
    return this.shared[SLOT.reaped] === 1;
  }

  /** Renewals sent and taken, and failed. */
  get beats(): { ok: number; failed: number } {
    return { ok: this.shared[SLOT.beats], failed: this.shared[SLOT.failures] };
  }

  /** The main thread's event-loop delay since the last call, seconds (p99 and max). */
  takeLoopDelay(): { p99: number; max: number } {
    const p99 = this.loopDelay.percentile(99) / 1e9;
    const max = this.loopDelay.max / 1e9;
    this.loopDelay.reset();
    return { p99: Number.isFinite(p99) ? p99 : 0, max: Number.isFinite(max) ? max : 0 };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.alive);
    this.loopDelay.disable();
    this.thread.postMessage({ type: 'stop' });
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, 5000).unref());
    await Promise.race([this.exited, timeout]);
    await this.thread.terminate();
  }
}
