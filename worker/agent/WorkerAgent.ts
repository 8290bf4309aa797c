/**
 * The worker agent: one per ECS task (one per child process locally). Each tick it reads the
 * units the registry says it holds, plans (planLeases) what to stop,
 * release, resume and claim, and watches the next worker in the ring, taking over that worker's
 * units when its lease has run out. A worker that loses contact with the registry for half a
 * lease stops its units itself, so no unit ever runs on two workers; one that finds itself taken
 * over rejoins under a new member id. The fleet lease is renewed from a thread of its own
 * (LeaseKeeper), so a main thread busy with media never makes the worker look dead. A burst of
 * work is taken at the pace the worker can open it (OpenGate) and only as far as its measured CPU
 * allows (Headroom); a worker over capacity hands its newest units back to waiting, with the
 * reason. On SIGTERM it drains: units go back to waiting, with the reason, for the others to claim
 * at once.
 */

import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { SecurityConfig, WorkerConfig } from '../../shared/config.js';
import type { Logger } from '../../shared/logger.js';
import type { Member, Registry, UnitItem } from '../../shared/registry/Registry.js';
import type { StreamRecord, UnitState } from '../../shared/streamSpec.js';
import { GuardProxy } from '../egress/GuardProxy.js';
import { type Outbox, resendId } from '../publishers/Outbox.js';
import { EmfReporter } from './emfMetrics.js';
import { Headroom } from './Headroom.js';
import { hostBusyCpuSeconds } from './hostCpu.js';
import { LeaseKeeper } from './LeaseKeeper.js';
import { OpenGate } from './OpenGate.js';
import { planLeases } from './planLeases.js';
import { StreamSupervisor, type SupervisorDeps } from './StreamSupervisor.js';
import { SecretResolver } from './secrets.js';
import {
  ABSOLVE_MS,
  announceQuarantined,
  primeStrikes,
  recentStrikes,
  takeOverSuccessor,
} from './takeOver.js';

/** Units lagging more than this make the worker stop claiming (and report itself full). */
const FULL_LAG_SECONDS = 5;
/** Streams of held units are re-read this often (ticks), to drop units of deleted streams. */
const STREAM_CHECK_TICKS = 30;
/** A unit whose stream has not appeared this long after its creation was left by a failed registration. */
const UNCOMMITTED_UNIT_SECONDS = 60;
const WAITING_REASON = 'registered; waiting for a worker with room';
/** A unit started this recently is not yet fully in the CPU measurement (Headroom). */
const YOUNG_MS = 10_000;
/** A unit this worker shed is not claimed back by it for this long. */
const SHED_MEMORY_MS = 120_000;
/** A unit may take this long to open before it counts as not running (metric UnitsNotRunning). */
const NOT_RUNNING_GRACE_MS = 60_000;
/** The resolution the event-loop delay is sampled at (LeaseKeeper), which the histogram includes. */
const LOOP_SAMPLE_SECONDS = 0.02;

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

const superviseStream: RunnerFactory = (unit, stream, deps) => new StreamSupervisor(unit, stream, deps);

export class WorkerAgent {
  readonly supervisors = new Map<string, UnitRunner>();
  private readonly since = new Map<string, number>();
  /** Units this worker holds, with their stream: kept while a fence pause stops them, for resume. */
  private readonly known = new Map<string, { unit: UnitItem; stream: StreamRecord }>();
  private readonly proxy: GuardProxy;
  /** Opens a burst of units a few at a time (probe, decoder start, first frames). */
  readonly openGate: OpenGate;
  /** What the worker measures it can still take. */
  readonly headroom: Headroom;
  private keeper: LeaseKeeper | null = null;
  /** Units this worker shed lately (unit → until when it leaves them to others). */
  private readonly shedUntil = new Map<string, number>();
  /** The event loop's delay over the last tick, seconds. */
  loopDelay = { p99: 0, max: 0 };
  private memberId = '';
  private timer: NodeJS.Timeout | null = null;
  private fenceTimer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private draining = false;
  private lastResend = Date.now();
  private readonly emf = new EmfReporter(process.env.STREAMQC_EMF_NAMESPACE);
  ticks = 0;
  /** CPU seconds of the decoders of units that stopped (the measurement's total keeps them). */
  private cpuOfEnded = 0;
  /** Lease changes this worker made: units claimed, released, and taken over from departed workers. */
  /** Secret references in stream URLs, read from Secrets Manager when a unit opens. */
  private readonly secrets: SecretResolver;
  readonly moves = { claimed: 0, released: 0, takenOver: 0, stopped: 0, shed: 0, quarantined: 0 };

  constructor(
    private readonly config: WorkerConfig,
    private readonly security: SecurityConfig,
    private readonly registry: Registry,
    private readonly outbox: Outbox,
    private readonly logger: Logger,
    private readonly runUnit: RunnerFactory = superviseStream,
  ) {
    this.proxy = new GuardProxy(security, logger);
    this.secrets = new SecretResolver();
    const a = config.admission;
    this.openGate = new OpenGate({
      concurrency: a.openConcurrency,
      intervalMs: a.openIntervalMs,
      holdLimitMs: 30_000,
    });
    this.headroom = new Headroom({
      cores: a.cpuCores,
      machineCores: availableParallelism(),
      claimTarget: a.claimTarget,
      shedAbove: a.shedAbove,
      loopDelayShedSeconds: a.loopDelayShedSeconds,
      coldStreamCores: a.coldStreamCores,
    });
  }

  get workerId(): string {
    return this.config.workerId;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Full: at its budget, or some unit is falling behind. */
  get full(): boolean {
    if (this.supervisors.size >= this.config.streamBudget) return true;
    return [...this.supervisors.values()].some((s) => s.lagSeconds > FULL_LAG_SECONDS);
  }

  async start(): Promise<void> {
    // Retries are found at the heartbeat's pace (new events are delivered at once anyway).
    this.outbox.start(Math.max(2000, this.config.heartbeatSeconds * 1000));
    this.keeper = new LeaseKeeper(this.registry, {
      workerId: this.workerId,
      leaseSeconds: this.config.leaseSeconds,
      heartbeatSeconds: this.config.heartbeatSeconds,
    });
    this.reportLoad();
    await this.join();
    await this.tickSafely();
    this.timer = setInterval(() => void this.tickSafely(), this.config.heartbeatSeconds * 1000);
    this.fenceTimer = setInterval(() => void this.fence(), 500);
    this.logger.info(
      { budget: this.config.streamBudget, memberId: this.memberId, admission: this.config.admission },
      'worker started',
    );
  }

  /** Stops every unit, puts them back to waiting for the others, and leaves the fleet. */
  async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    this.reportLoad();
    if (this.timer) clearInterval(this.timer);
    if (this.fenceTimer) clearInterval(this.fenceTimer);
    await this.ticking;
    this.logger.info({ streams: this.supervisors.size }, 'draining');
    await Promise.all([...this.supervisors.keys()].map((id) => this.stopUnit(id)));
    try {
      const plan = planLeases({
        ...this.snapshot(await this.registry.units.heldBy(this.memberId)),
        waiting: [],
      });
      await Promise.all(
        plan.release.map((r) => this.registry.units.release(r.unitId, this.memberId, r.reason)),
      );
      this.moves.released += plan.release.length;
      await this.keeper?.stop();
      await this.registry.fleet.leave(this.memberId);
    } catch (e) {
      // The registry is unreachable: the others take the units over when the lease runs out.
      this.logger.warn(
        { err: (e as Error).message },
        'could not hand units back; they move when the lease ends',
      );
    }
    await this.keeper?.stop();
    this.outbox.stop();
    await this.outbox.drain();
    await this.proxy.stop();
    this.logger.info('drained');
  }

  private async join(): Promise<void> {
    this.memberId = `${this.workerId}#${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
    await this.registry.fleet.join({ ...this.beat(), reaped: undefined });
    this.keeper?.setMember(this.memberId);
  }

  /** Tells the lease thread what its renewals report. */
  private reportLoad(): void {
    this.keeper?.report({
      load: this.supervisors.size,
      budget: this.config.streamBudget,
      draining: this.draining,
    });
  }

  /** Fleet lease renewals the lease thread sent, taken and failed. */
  get leaseRenewals(): { ok: number; failed: number } {
    return this.keeper?.beats ?? { ok: 0, failed: 0 };
  }

  /** When the lease was last renewed (by the lease thread). */
  private get lastBeatOk(): number {
    return this.keeper?.lastOk ?? 0;
  }

  private beat(): Omit<Member, 'reaped'> {
    return {
      memberId: this.memberId,
      workerId: this.workerId,
      leaseUntil: Date.now() + this.config.leaseSeconds * 1000,
      budget: this.config.streamBudget,
      load: this.supervisors.size,
      draining: this.draining,
    };
  }

  /** Without a renewed lease for half its length, stop running units: others may take them soon. */
  private async fence(): Promise<void> {
    if (this.draining || this.supervisors.size === 0) return;
    if (Date.now() - this.lastBeatOk < (this.config.leaseSeconds * 1000) / 2) return;
    this.logger.error(
      { units: this.supervisors.size },
      'lost contact with the registry; stopping every unit',
    );
    await Promise.all([...this.supervisors.keys()].map((id) => this.stopUnit(id)));
  }

  private async tickSafely(): Promise<void> {
    if (this.ticking || this.draining) return;
    this.ticking = this.tick()
      .catch((e) => this.logger.warn({ err: (e as Error).message }, 'worker tick failed'))
      .finally(() => {
        this.ticking = null;
      });
    await this.ticking;
  }

  private snapshot(held: string[]) {
    return {
      workerId: this.workerId,
      budget: this.config.streamBudget,
      draining: this.draining,
      running: [...this.since].map(([unitId, since]) => ({ unitId, since })),
      held,
      behind: [...this.supervisors.values()].some((s) => s.lagSeconds > FULL_LAG_SECONDS),
      maxClaims: this.config.maxClaimsPerTick,
    };
  }

  private async tick(): Promise<void> {
    const { units } = this.registry;
    if (this.keeper?.reaped) {
      this.logger.warn('taken over by the fleet while out of contact; stopping every unit and rejoining');
      await Promise.all([...this.supervisors.keys()].map((id) => this.stopUnit(id)));
      this.known.clear();
      await this.join();
      return;
    }
    const now = Date.now();
    this.measure(now);
    const shedCount = this.headroom.shed(now);
    const snapshot = {
      ...this.snapshot(await units.heldBy(this.memberId)),
      waiting: [] as string[],
      admit: Math.min(this.headroom.room(now), this.openGate.free),
      ...(shedCount > 0
        ? {
            shed: {
              count: shedCount,
              reason: `worker ${this.workerId} over its measured capacity (${this.headroom.reason}); waiting for a worker with room`,
            },
          }
        : {}),
    };
    let plan = planLeases(snapshot);
    if (plan.room > 0) {
      const want = Math.min(plan.room, this.config.maxClaimsPerTick);
      const sample = await units.waiting(want + this.shedUntil.size, randomStart());
      const waiting = sample.filter((id) => (this.shedUntil.get(id) ?? 0) < now).slice(0, want);
      plan = planLeases({ ...snapshot, waiting });
    }
    for (const [id, until] of this.shedUntil) if (until < now) this.shedUntil.delete(id);
    if (snapshot.shed) {
      for (const { unitId } of plan.release) this.shedUntil.set(unitId, now + SHED_MEMORY_MS);
      this.moves.shed += plan.release.length;
    }
    for (const id of plan.stop) {
      this.supervisors.get(id)?.log.info('unit no longer ours (stream deleted, or taken over); stopping');
      await this.stopUnit(id);
      this.known.delete(id);
      this.moves.stopped++;
    }
    for (const { unitId, reason } of plan.release) {
      await this.stopUnit(unitId);
      this.known.delete(unitId);
      if (await units.release(unitId, this.memberId, reason)) this.moves.released++;
      this.logger.warn({ unitId, reason }, 'unit released');
    }
    await this.resume(plan.resume);
    // Claims another worker won first are simply retried with a new sample next tick.
    // At most one prime suspect (workers died under it lately) per worker: see takeOver.ts.
    const policy = this.config.strikes;
    const prime = primeStrikes(policy);
    let holdsPrime = [...this.known.values()].some((k) => recentStrikes(k.unit, policy, now) >= prime);
    for (const id of plan.claim) {
      const probation = holdsPrime ? { strikes: prime, since: now - policy.windowMs } : undefined;
      const unit = await units.claim(id, this.memberId, probation);
      if (unit && recentStrikes(unit, policy, now) >= prime) holdsPrime = true;
      if (!unit) continue;
      this.moves.claimed++;
      const stream = await this.registry.streams.get(unit.streamId);
      await this.startIfActive(unit, stream);
    }
    await this.releaseStuck();
    await this.absolve(now);
    this.reportLoad();
    if (this.ticks % STREAM_CHECK_TICKS === STREAM_CHECK_TICKS - 1) await this.dropDeletedStreams();
    await this.watchSuccessor();
    await this.resendAlarms();
    this.publishEmf();
    this.ticks++;
  }

  /** Samples CPU (this process and its decoders) and event-loop delay into the headroom. */
  private measure(now: number): void {
    const own = process.cpuUsage();
    let cpu = (own.user + own.system) / 1e6 + this.cpuOfEnded;
    for (const s of this.supervisors.values()) cpu += s.cpuSeconds();
    const delay = this.keeper?.takeLoopDelay() ?? { p99: 0, max: 0 };
    this.loopDelay = {
      p99: Math.max(0, delay.p99 - LOOP_SAMPLE_SECONDS),
      max: Math.max(0, delay.max - LOOP_SAMPLE_SECONDS),
    };
    const young = [...this.since.values()].filter((t) => now - t < YOUNG_MS).length;
    this.headroom.sample({
      now,
      cpuSeconds: cpu,
      hostCpuSeconds: hostBusyCpuSeconds(),
      running: this.supervisors.size,
      young,
      loopDelayP99: this.loopDelay.p99,
      lagging: [...this.supervisors.values()].filter((u) => u.lagSeconds > FULL_LAG_SECONDS).length,
    });
  }

  /** Starts held units that are not running (after the worker paused itself). */
  private async resume(ids: string[]): Promise<void> {
    const missing = ids.filter((id) => !this.known.has(id));
    if (missing.length) {
      const found = await this.registry.units.getMany(missing);
      const streams = new Map(
        (await this.registry.streams.getMany(found.map((u) => u.streamId))).map((s) => [s.id, s]),
      );
      for (const unit of found) await this.startIfActive(unit, streams.get(unit.streamId) ?? null);
    }
    for (const id of ids) {
      const entry = this.known.get(id);
      if (entry && !this.supervisors.has(id)) this.startUnit(entry.unit, entry.stream);
    }
  }

  /** Runs a unit just taken, unless its stream is gone (or not committed yet). */
  private async startIfActive(unit: UnitItem, stream: StreamRecord | null): Promise<void> {
    const { units } = this.registry;
    if (stream?.state === 'active') {
      this.startUnit(unit, stream);
      return;
    }
    if (!stream && Date.now() - unit.createdAt < UNCOMMITTED_UNIT_SECONDS * 1000) {
      // The registration is still writing its stream: give the unit back for a moment.
      await units.release(unit.unitId, this.memberId, WAITING_REASON);
      return;
    }
    await units.removeHeld(unit.unitId, this.memberId);
    this.logger.info({ unitId: unit.unitId }, 'removed a unit whose stream is deleted or was never stored');
  }

  private startUnit(unit: UnitItem, stream: StreamRecord): void {
    this.known.set(unit.unitId, { unit, stream });
    const runner = this.runUnit(unit, stream, {
      registry: this.registry,
      outbox: this.outbox,
      logger: this.logger,
      security: this.security,
      workerId: this.workerId,
      proxy: this.proxy,
      openGate: this.openGate,
      decodeProfile: this.config.decodeProfile,
      openDeadlineSeconds: this.config.openDeadlineSeconds,
      secrets: this.secrets,
    });
    this.supervisors.set(unit.unitId, runner);
    this.since.set(unit.unitId, Date.now());
    runner.log.info('unit started');
    runner.start();
  }

  /**
   * Hands back units whose open has been stuck for twice the open deadline (they raised
   * `stream.unmonitored` at the deadline): another worker, or this one after a while, opens them
   * afresh. A stop that does not finish within 10 s is left behind, not waited for.
   */
  private async releaseStuck(): Promise<void> {
    const limit = 2 * this.config.openDeadlineSeconds;
    for (const [id, runner] of [...this.supervisors]) {
      const stuck = runner.stuck;
      if (!stuck || stuck.seconds < limit) continue;
      const reason = `stuck ${stuck.stage} for ${stuck.seconds} s on worker ${this.workerId}; handed back`;
      runner.log.error({ ...stuck }, 'unit stuck past twice its open deadline; handing it back');
      await this.stopUnit(id, 10_000);
      this.known.delete(id);
      this.shedUntil.set(id, Date.now() + SHED_MEMORY_MS);
      if (await this.registry.units.release(id, this.memberId, reason)) this.moves.released++;
    }
  }

  /** Forgets the strikes of units that have run here for ABSOLVE_MS (takeOver.ts). */
  private async absolve(now: number): Promise<void> {
    for (const [id, entry] of this.known) {
      const started = this.since.get(id);
      if (started === undefined || now - started < ABSOLVE_MS) continue;
      if (recentStrikes(entry.unit, this.config.strikes, now) === 0) continue;
      if (await this.registry.units.absolve(id, this.memberId)) {
        entry.unit = { ...entry.unit, strikes: undefined, lastStrikeAt: undefined };
        this.supervisors.get(id)?.log.info('ran well for 5 min: strikes forgotten');
      }
    }
  }

  private async stopUnit(id: string, waitMs?: number): Promise<void> {
    const runner = this.supervisors.get(id);
    this.supervisors.delete(id);
    this.since.delete(id);
    const stopped = runner?.stop();
    if (waitMs === undefined) await stopped;
    else await Promise.race([stopped, new Promise((r) => setTimeout(r, waitMs).unref())]);
    // The CPU measurement is a running total: what a stopped unit used stays counted.
    if (runner) this.cpuOfEnded += runner.cpuSeconds();
  }

  /** Drops units whose stream was deleted while a delete's unit removal did not finish. */
  private async dropDeletedStreams(): Promise<void> {
    const ids = [...this.known.values()].map((k) => k.stream.id);
    if (!ids.length) return;
    const active = new Set(
      (await this.registry.streams.getMany(ids)).filter((s) => s.state === 'active').map((s) => s.id),
    );
    for (const [id, { unit }] of this.known) {
      if (active.has(unit.streamId)) continue;
      await this.stopUnit(id);
      this.known.delete(id);
      await this.registry.units.removeHeld(id, this.memberId);
    }
  }

  /** Takes over the next worker in the ring when its lease has run out (see takeOver.ts). */
  private async watchSuccessor(): Promise<void> {
    const taken = await takeOverSuccessor(this.registry, this.memberId, this.config.strikes);
    if (!taken) return;
    this.moves.takenOver += taken.moved;
    this.logger.warn(
      { from: taken.from.workerId, memberId: taken.from.memberId, units: taken.moved },
      'took over a departed worker',
    );
    this.moves.quarantined += taken.quarantined.length;
    await announceQuarantined(
      { registry: this.registry, outbox: this.outbox },
      taken.quarantined,
      this.logger,
    );
  }

  /** Units held for over a minute that are not monitoring (opening or backing off). */
  unitsNotRunning(now = Date.now()): number {
    let n = 0;
    for (const [id, runner] of this.supervisors)
      if (
        runner.state !== 'running' &&
        runner.state !== 'completed' &&
        now - (this.since.get(id) ?? now) > NOT_RUNNING_GRACE_MS
      )
        n++;
    return n;
  }

  /** Writes the EMF metrics line once a minute when a CloudWatch namespace is configured. */
  private publishEmf(): void {
    this.emf.maybeWrite({
      streams: this.supervisors.size,
      budget: this.config.streamBudget,
      maxLagSeconds: Math.max(0, ...[...this.supervisors.values()].map((s) => s.lagSeconds)),
      deliveryFailures: this.outbox.failures,
      deadLetters: [...this.outbox.counters.values()].reduce((n, c) => n + c.deadLettered, 0),
      unitsNotRunning: this.unitsNotRunning(),
    });
  }

  /**
   * Once per period, re-publishes the raise of every open alarm of our streams and the clear of
   * every alarm closed in the last two periods: a consumer that missed either catches up.
   */
  private async resendAlarms(): Promise<void> {
    const period = this.config.resendSeconds * 1000;
    if (!period || Date.now() - this.lastResend < period) return;
    this.lastResend = Date.now();
    const streams = new Set([...this.supervisors.values()].map((s) => s.unit.streamId));
    for (const streamId of streams) {
      for (const event of await this.registry.alarms.resendable(streamId, Date.now() - 2 * period)) {
        await this.outbox.submit(event, resendId(event, Math.floor(Date.now() / period)));
      }
    }
  }
}

/** A random point in the unit id space (`st_` + base-36), where a look at the waiting units starts. */
function randomStart(): string {
  const alphabet = '0123456789abcdefghijklmnopqrstuvwxyz';
  return `st_${Array.from(randomBytes(2), (b) => alphabet[b % 36]).join('')}`;
}
