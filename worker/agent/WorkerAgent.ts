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
import { type MediaStore, mediaStoreFrom } from '../../shared/media/MediaStore.js';
import type { Member, Registry } from '../../shared/registry/Registry.js';
import { GuardProxy } from '../egress/GuardProxy.js';
import { type Outbox, resendAlarms } from '../publishers/Outbox.js';
import { EmfReporter } from './emfMetrics.js';
import { Headroom } from './Headroom.js';
import { HeldUnits, type RunnerFactory, type UnitRunner } from './HeldUnits.js';
import { hostBusyCpuSeconds } from './hostCpu.js';
import { LeaseKeeper } from './LeaseKeeper.js';
import { OpenGate } from './OpenGate.js';
import { planLeases } from './planLeases.js';
import { StreamSupervisor } from './StreamSupervisor.js';
import { SecretResolver } from './secrets.js';
import { announceQuarantined, takeOverSuccessor } from './takeOver.js';

/** Streams of held units are re-read this often (ticks), to drop units of deleted streams. */
const STREAM_CHECK_TICKS = 30;
/** A unit this worker shed is not claimed back by it for this long. */
const SHED_MEMORY_MS = 120_000;
/** The resolution the event-loop delay is sampled at (LeaseKeeper), which the histogram includes. */
const LOOP_SAMPLE_SECONDS = 0.02;

export type { RunnerFactory, UnitRunner } from './HeldUnits.js';

const superviseStream: RunnerFactory = (unit, stream, deps) => new StreamSupervisor(unit, stream, deps);

export class WorkerAgent {
  /** The units held here, with the runners of those running. */
  private readonly running: HeldUnits;
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
  /** Lease changes this worker made: units claimed, released, and taken over from departed workers. */
  readonly moves = { claimed: 0, released: 0, takenOver: 0, stopped: 0, shed: 0, quarantined: 0 };

  constructor(
    private readonly config: WorkerConfig,
    security: SecurityConfig,
    private readonly registry: Registry,
    private readonly outbox: Outbox,
    private readonly logger: Logger,
    runUnit: RunnerFactory = superviseStream,
    media: MediaStore | null = mediaStoreFrom(),
  ) {
    this.proxy = new GuardProxy(security, logger);
    const a = config.admission;
    this.openGate = new OpenGate({
      concurrency: a.openConcurrency,
      intervalMs: a.openIntervalMs,
      holdLimitMs: 30_000,
    });
    this.running = new HeldUnits(runUnit, {
      registry,
      outbox,
      logger,
      security,
      workerId: config.workerId,
      proxy: this.proxy,
      openGate: this.openGate,
      decodeProfile: config.decodeProfile,
      openDeadlineSeconds: config.openDeadlineSeconds,
      // Secret references in stream URLs, read from Secrets Manager when a unit opens.
      secrets: new SecretResolver(),
      ...(media ? { media: { store: media, thumbnailSeconds: config.thumbnailSeconds } } : {}),
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

  /** The runners of the units running here, by unit id. */
  get supervisors(): ReadonlyMap<string, UnitRunner> {
    return this.running.runners;
  }

  get workerId(): string {
    return this.config.workerId;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Full: at its budget, or some unit is falling behind. */
  get full(): boolean {
    return this.running.size >= this.config.streamBudget || this.running.behind;
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
    this.logger.info({ streams: this.running.size }, 'draining');
    await this.running.stopAll();
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
      load: this.running.size,
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
      load: this.running.size,
      draining: this.draining,
    };
  }

  /** Without a renewed lease for half its length, stop running units: others may take them soon. */
  private async fence(): Promise<void> {
    if (this.draining || this.running.size === 0) return;
    if (Date.now() - this.lastBeatOk < (this.config.leaseSeconds * 1000) / 2) return;
    this.logger.error({ units: this.running.size }, 'lost contact with the registry; stopping every unit');
    await this.running.stopAll();
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
      running: this.running.list(),
      held,
      behind: this.running.behind,
      maxClaims: this.config.maxClaimsPerTick,
    };
  }

  private async tick(): Promise<void> {
    const { units } = this.registry;
    if (this.keeper?.reaped) {
      this.logger.warn('taken over by the fleet while out of contact; stopping every unit and rejoining');
      await this.running.stopAll();
      this.running.known.clear();
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
      this.running.runners.get(id)?.log.info('unit no longer ours (stream deleted, or taken over); stopping');
      await this.running.drop(id);
      this.moves.stopped++;
    }
    for (const { unitId, reason } of plan.release) {
      await this.running.drop(unitId);
      if (await units.release(unitId, this.memberId, reason)) this.moves.released++;
      this.logger.warn({ unitId, reason }, 'unit released');
    }
    await this.running.resume(this.memberId, plan.resume);
    this.moves.claimed += await this.running.claim(this.memberId, plan.claim, this.config.strikes, now);
    await this.releaseStuck();
    await this.running.absolve(this.memberId, this.config.strikes, now);
    this.reportLoad();
    if (this.ticks % STREAM_CHECK_TICKS === STREAM_CHECK_TICKS - 1)
      await this.running.dropDeleted(this.memberId);
    await this.watchSuccessor();
    await this.resendAlarms();
    this.publishEmf();
    this.ticks++;
  }

  /** Samples CPU (this process and its decoders) and event-loop delay into the headroom. */
  private measure(now: number): void {
    const own = process.cpuUsage();
    const cpu = (own.user + own.system) / 1e6 + this.running.cpuSeconds();
    const delay = this.keeper?.takeLoopDelay() ?? { p99: 0, max: 0 };
    this.loopDelay = {
      p99: Math.max(0, delay.p99 - LOOP_SAMPLE_SECONDS),
      max: Math.max(0, delay.max - LOOP_SAMPLE_SECONDS),
    };
    this.headroom.sample({
      now,
      cpuSeconds: cpu,
      hostCpuSeconds: hostBusyCpuSeconds(),
      running: this.running.size,
      young: this.running.young(now),
      loopDelayP99: this.loopDelay.p99,
      lagging: this.running.lagging(),
    });
  }

  /**
   * Hands back units whose open has been stuck for twice the open deadline (they raised
   * `stream.unmonitored` at the deadline): another worker, or this one after a while, opens them
   * afresh.
   */
  private async releaseStuck(): Promise<void> {
    const released = await this.running.releaseStuck(this.memberId, 2 * this.config.openDeadlineSeconds);
    for (const id of released) this.shedUntil.set(id, Date.now() + SHED_MEMORY_MS);
    this.moves.released += released.length;
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
    return this.running.notRunning(now);
  }

  /** Writes the EMF metrics line once a minute when a CloudWatch namespace is configured. */
  private publishEmf(): void {
    this.emf.maybeWrite({
      streams: this.running.size,
      budget: this.config.streamBudget,
      maxLagSeconds: this.running.maxLagSeconds(),
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
    await resendAlarms(this.registry, this.outbox, this.running.streamIds(), period);
  }
}

/** A random point in the unit id space (`st_` + base-36), where a look at the waiting units starts. */
function randomStart(): string {
  const alphabet = '0123456789abcdefghijklmnopqrstuvwxyz';
  return `st_${Array.from(randomBytes(2), (b) => alphabet[b % 36]).join('')}`;
}
