/**
 * The units a worker holds: each running one with its runner (a StreamSupervisor, or the scale
 * harness's stand-in) and when it started, and each held one with the unit and stream it was
 * started from (kept while a fence pause stops it, so it can be resumed). Claiming, resuming,
 * handing back stuck units, forgetting strikes and dropping units of deleted streams happen here;
 * what the agent measures of them (lag, CPU, units not yet monitoring) is read here.
 */
import type { Logger } from '../../shared/logger.js';
import type { UnitItem } from '../../shared/registry/Registry.js';
import type { StrikePolicy } from '../../shared/registry/units.js';
import type { StreamRecord, UnitState } from '../../shared/streamSpec.js';
import type { SupervisorDeps } from './StreamSupervisor.js';
import { ABSOLVE_MS, primeStrikes, recentStrikes } from './takeOver.js';

/** Units lagging more than this make the worker stop claiming (and report itself full). */
export const FULL_LAG_SECONDS = 5;
/** A unit started this recently is not yet fully in the CPU measurement (Headroom). */
const YOUNG_MS = 10_000;
/** A unit whose stream has not appeared this long after its creation was left by a failed registration. */
const UNCOMMITTED_UNIT_SECONDS = 60;
const WAITING_REASON = 'registered; waiting for a worker with room';
/** A unit may take this long to open before it counts as not running (metric UnitsNotRunning). */
const NOT_RUNNING_GRACE_MS = 60_000;

/** What the agent needs of whatever runs a unit (the real supervisor, or the scale harness's stand-in). */
export interface UnitRunner {
  readonly unit: UnitItem;
  readonly log: Logger;
  readonly lagSeconds: number;
  readonly frames: number;
  readonly restarts: number;
  readonly state: UnitState;
  /** Set while its current open has run past the open deadline (StreamSupervisor.watchOpen). */
  readonly stuck?: { stage: string; seconds: number } | null;
  cpuSeconds(): number;
  start(): void;
  stop(): Promise<void>;
}

export type RunnerFactory = (unit: UnitItem, stream: StreamRecord, deps: SupervisorDeps) => UnitRunner;

export class HeldUnits {
  /** Unit id → its runner, for every unit running now. */
  readonly runners = new Map<string, UnitRunner>();
  /** Units this worker holds, with their stream: kept while a fence pause stops them, for resume. */
  readonly known = new Map<string, { unit: UnitItem; stream: StreamRecord }>();
  private readonly since = new Map<string, number>();
  /** CPU seconds of the runners that stopped (the measurement's total keeps them). */
  private cpuOfEnded = 0;

  constructor(
    private readonly runUnit: RunnerFactory,
    private readonly deps: SupervisorDeps,
  ) {}

  get size(): number {
    return this.runners.size;
  }

  has(id: string): boolean {
    return this.runners.has(id);
  }

  /** When a running unit started (ms), if it runs. */
  startedAt(id: string): number | undefined {
    return this.since.get(id);
  }

  /** Every running unit and when it started. */
  list(): { unitId: string; since: number }[] {
    return [...this.since].map(([unitId, since]) => ({ unitId, since }));
  }

  start(unit: UnitItem, stream: StreamRecord): void {
    this.known.set(unit.unitId, { unit, stream });
    const runner = this.runUnit(unit, stream, this.deps);
    this.runners.set(unit.unitId, runner);
    this.since.set(unit.unitId, Date.now());
    runner.log.info('unit started');
    runner.start();
  }

  /** Stops a unit (kept in `known` unless forgotten); with `waitMs`, waits for its stop at most that long. */
  async stop(id: string, waitMs?: number): Promise<void> {
    const runner = this.runners.get(id);
    this.runners.delete(id);
    this.since.delete(id);
    const stopped = runner?.stop();
    if (waitMs === undefined) await stopped;
    else await Promise.race([stopped, new Promise((r) => setTimeout(r, waitMs).unref())]);
    // The CPU measurement is a running total: what a stopped unit used stays counted.
    if (runner) this.cpuOfEnded += runner.cpuSeconds();
  }

  /** Stops a unit and forgets it: it is no longer this worker's. */
  async drop(id: string, waitMs?: number): Promise<void> {
    await this.stop(id, waitMs);
    this.known.delete(id);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.runners.keys()].map((id) => this.stop(id)));
  }

  /** Some unit is falling behind real time. */
  get behind(): boolean {
    return this.lagging() > 0;
  }

  lagging(): number {
    let n = 0;
    for (const r of this.runners.values()) if (r.lagSeconds > FULL_LAG_SECONDS) n++;
    return n;
  }

  maxLagSeconds(): number {
    return Math.max(0, ...[...this.runners.values()].map((r) => r.lagSeconds));
  }

  /** Units started within the last YOUNG_MS. */
  young(now: number): number {
    return [...this.since.values()].filter((t) => now - t < YOUNG_MS).length;
  }

  /** CPU seconds of every runner, running or ended. */
  cpuSeconds(): number {
    let cpu = this.cpuOfEnded;
    for (const r of this.runners.values()) cpu += r.cpuSeconds();
    return cpu;
  }

  /** Units held for over a minute that are not monitoring (opening or backing off). */
  notRunning(now: number): number {
    let n = 0;
    for (const [id, runner] of this.runners)
      if (
        runner.state !== 'running' &&
        runner.state !== 'completed' &&
        now - (this.since.get(id) ?? now) > NOT_RUNNING_GRACE_MS
      )
        n++;
    return n;
  }

  /** Starts held units that are not running (after the worker paused itself). */
  async resume(memberId: string, ids: string[]): Promise<void> {
    const { registry } = this.deps;
    const missing = ids.filter((id) => !this.known.has(id));
    if (missing.length) {
      const found = await registry.units.getMany(missing);
      const streams = new Map(
        (await registry.streams.getMany(found.map((u) => u.streamId))).map((s) => [s.id, s]),
      );
      for (const unit of found) await this.startIfActive(memberId, unit, streams.get(unit.streamId) ?? null);
    }
    for (const id of ids) {
      const entry = this.known.get(id);
      if (entry && !this.runners.has(id)) this.start(entry.unit, entry.stream);
    }
  }

  /**
   * Claims waiting units and runs them; returns how many were claimed. Claims another worker won
   * first are simply retried with a new sample next tick. At most one prime suspect (workers died
   * under it lately) per worker: see takeOver.ts.
   */
  async claim(memberId: string, ids: string[], policy: StrikePolicy, now: number): Promise<number> {
    const { registry } = this.deps;
    const prime = primeStrikes(policy);
    let holdsPrime = [...this.known.values()].some((k) => recentStrikes(k.unit, policy, now) >= prime);
    let claimed = 0;
    for (const id of ids) {
      const probation = holdsPrime ? { strikes: prime, since: now - policy.windowMs } : undefined;
      const unit = await registry.units.claim(id, memberId, probation);
      if (!unit) continue;
      if (recentStrikes(unit, policy, now) >= prime) holdsPrime = true;
      claimed++;
      await this.startIfActive(memberId, unit, await registry.streams.get(unit.streamId));
    }
    return claimed;
  }

  /** Runs a unit just taken, unless its stream is gone (or not committed yet). */
  private async startIfActive(memberId: string, unit: UnitItem, stream: StreamRecord | null): Promise<void> {
    const { units } = this.deps.registry;
    if (stream?.state === 'active') {
      this.start(unit, stream);
      return;
    }
    if (!stream && Date.now() - unit.createdAt < UNCOMMITTED_UNIT_SECONDS * 1000) {
      // The registration is still writing its stream: give the unit back for a moment.
      await units.release(unit.unitId, memberId, WAITING_REASON);
      return;
    }
    await units.removeHeld(unit.unitId, memberId);
    this.deps.logger.info(
      { unitId: unit.unitId },
      'removed a unit whose stream is deleted or was never stored',
    );
  }

  /**
   * Stops and hands back (to waiting, with the reason) units whose current open has been stuck
   * for `limitSeconds`; a stop that does not finish within 10 s is left behind, not waited for.
   * Returns the units handed back.
   */
  async releaseStuck(memberId: string, limitSeconds: number): Promise<string[]> {
    const released: string[] = [];
    for (const [id, runner] of [...this.runners]) {
      const stuck = runner.stuck;
      if (!stuck || stuck.seconds < limitSeconds) continue;
      const reason = `stuck ${stuck.stage} for ${stuck.seconds} s on worker ${this.deps.workerId}; handed back`;
      runner.log.error({ ...stuck }, 'unit stuck past twice its open deadline; handing it back');
      await this.drop(id, 10_000);
      if (await this.deps.registry.units.release(id, memberId, reason)) released.push(id);
    }
    return released;
  }

  /** Forgets the strikes of units that have run here for ABSOLVE_MS (takeOver.ts). */
  async absolve(memberId: string, policy: StrikePolicy, now: number): Promise<void> {
    for (const [id, entry] of this.known) {
      const started = this.since.get(id);
      if (started === undefined || now - started < ABSOLVE_MS) continue;
      if (recentStrikes(entry.unit, policy, now) === 0) continue;
      if (await this.deps.registry.units.absolve(id, memberId)) {
        entry.unit = { ...entry.unit, strikes: undefined, lastStrikeAt: undefined };
        this.runners.get(id)?.log.info('ran well for 5 min: strikes forgotten');
      }
    }
  }

  /** Drops units whose stream was deleted while a delete's unit removal did not finish. */
  async dropDeleted(memberId: string): Promise<void> {
    const ids = [...this.known.values()].map((k) => k.stream.id);
    if (!ids.length) return;
    const { registry } = this.deps;
    const active = new Set(
      (await registry.streams.getMany(ids)).filter((s) => s.state === 'active').map((s) => s.id),
    );
    for (const [id, { unit }] of this.known) {
      if (active.has(unit.streamId)) continue;
      await this.drop(id);
      await registry.units.removeHeld(id, memberId);
    }
  }

  /** The streams of the running units. */
  streamIds(): Set<string> {
    return new Set([...this.runners.values()].map((r) => r.unit.streamId));
  }
}
