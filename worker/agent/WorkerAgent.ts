/**
 * The worker agent: one per ECS task (one per child process locally). It heartbeats, leases the
 * shards rendezvous hashing gives it, runs a StreamSupervisor for every work unit in those shards,
 * hands shards over when a better-placed worker appears, stops claiming at its budget, re-sends
 * open alarms periodically, and drains on SIGTERM (releasing its leases so others take over at
 * once instead of after the lease timeout).
 */
import type { SecurityConfig, WorkerConfig } from '../../shared/config.js';
import type { Logger } from '../../shared/logger.js';
import { rankWorkers } from '../../shared/partitioner.js';
import type { Registry, UnitItem } from '../../shared/registry/Registry.js';
import type { StreamRecord } from '../../shared/streamSpec.js';
import { GuardProxy } from '../converter/GuardProxy.js';
import { type Outbox, resendId } from '../publishers/Outbox.js';
import { emfRecord } from './emfMetrics.js';
import { StreamSupervisor } from './StreamSupervisor.js';
import { TaskProtection } from './taskProtection.js';

/** Units lagging more than this make the worker report itself full. */
const FULL_LAG_SECONDS = 5;
/** Units are re-read on every change signal, and at least this often (ticks) as a safety net. */
const UNIT_RESYNC_TICKS = 30;

export class WorkerAgent {
  readonly supervisors = new Map<string, StreamSupervisor>();
  private readonly held = new Set<number>();
  private readonly proxy: GuardProxy;
  private proxyUrl = '';
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private draining = false;
  private lastResend = Date.now();
  private lastEmf = 0;
  private unitsVersion = -1;
  private readonly protection: TaskProtection;
  ticks = 0;

  constructor(
    private readonly config: WorkerConfig,
    private readonly security: SecurityConfig,
    private readonly registry: Registry,
    private readonly outbox: Outbox,
    private readonly logger: Logger,
  ) {
    this.proxy = new GuardProxy(security, logger);
    this.protection = new TaskProtection(process.env.ECS_AGENT_URI, logger);
  }

  get workerId(): string {
    return this.config.workerId;
  }

  get heldShards(): number[] {
    return [...this.held].sort((a, b) => a - b);
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Full: at its stream budget, or some stream is falling behind. */
  get full(): boolean {
    if (this.supervisors.size >= this.config.streamBudget) return true;
    return [...this.supervisors.values()].some((s) => s.lagSeconds > FULL_LAG_SECONDS);
  }

  async start(): Promise<void> {
    this.proxyUrl = await this.proxy.start();
    this.outbox.start();
    await this.tickSafely();
    this.timer = setInterval(() => void this.tickSafely(), this.config.heartbeatSeconds * 1000);
    this.logger.info({ budget: this.config.streamBudget, shards: this.held.size }, 'worker started');
  }

  /** Stops every stream, releases every lease and leaves the fleet. */
  async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    this.logger.info({ streams: this.supervisors.size, shards: this.held.size }, 'draining');
    await Promise.all([...this.supervisors.values()].map((s) => s.stop()));
    this.supervisors.clear();
    await Promise.all([...this.held].map((shard) => this.registry.releaseShard(shard, this.workerId)));
    this.held.clear();
    await this.registry.removeWorker(this.workerId);
    this.outbox.stop();
    await this.outbox.drain();
    await this.protection.update(false);
    await this.proxy.stop();
    this.logger.info('drained');
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

  private async tick(): Promise<void> {
    const { config, registry } = this;
    await registry.heartbeat(
      {
        workerId: this.workerId,
        heartbeatAt: Date.now(),
        load: this.supervisors.size,
        budget: config.streamBudget,
        full: this.full,
        draining: false,
      },
      config.leaseSeconds,
    );
    const { workers, leases, unitsVersion } = await registry.leaseSnapshot();
    const live = workers.filter((w) => !w.draining);
    const liveIds = new Set(live.map((w) => w.workerId));
    const holderOf = new Map(leases.map((l) => [l.shard, l.workerId]));
    let shardsChanged = false;
    for (let shard = 0; shard < config.shardCount; shard++) {
      const holder = holderOf.get(shard) ?? null;
      const holderAlive = holder !== null && liveIds.has(holder);
      const candidates = live.filter((w) => !w.full || w.workerId === holder).map((w) => w.workerId);
      const desired = rankWorkers(shard, candidates)[0];
      if (holder === this.workerId) {
        if (!this.held.has(shard)) shardsChanged = true;
        this.held.add(shard);
        if (desired && desired !== this.workerId) {
          // A better-placed live worker exists: hand the shard over.
          await registry.releaseShard(shard, this.workerId);
          this.held.delete(shard);
          shardsChanged = true;
          this.logger.info({ shard, to: desired }, 'shard handed over');
        }
      } else {
        if (this.held.delete(shard)) shardsChanged = true;
        if (desired === this.workerId && !holderAlive && !this.full) {
          if (await registry.claimShard(shard, this.workerId, holder)) {
            this.held.add(shard);
            shardsChanged = true;
            if (holder) this.logger.info({ shard, from: holder }, 'shard taken over from a departed worker');
          }
        }
      }
    }
    if (shardsChanged || unitsVersion !== this.unitsVersion || this.ticks % UNIT_RESYNC_TICKS === 0) {
      this.unitsVersion = unitsVersion;
      await this.syncUnits();
    }
    await this.resendOpenAlarms();
    await this.protection.update(this.supervisors.size > 0);
    this.publishEmf();
    this.ticks++;
  }

  /** Starts supervisors for units in held shards and stops the others. */
  private async syncUnits(): Promise<void> {
    const wanted = new Map<string, UnitItem>();
    const streams = new Map<string, StreamRecord>();
    for (const shard of this.held) {
      for (const unit of await this.registry.unitsInShard(shard)) {
        // Units of a deleted stream, or left by a registration that died before committing, are not work.
        const stream = streams.get(unit.streamId) ?? (await this.registry.getStream(unit.streamId));
        if (stream?.state !== 'active') continue;
        streams.set(stream.id, stream);
        wanted.set(unit.unitId, unit);
      }
    }
    for (const [id, supervisor] of this.supervisors) {
      if (wanted.has(id)) continue;
      this.supervisors.delete(id);
      supervisor.log.info('unit no longer ours; stopping');
      await supervisor.stop();
    }
    const waiting = new Set<number>();
    for (const [id, unit] of wanted) {
      if (this.supervisors.has(id)) continue;
      if (this.supervisors.size >= this.config.streamBudget) {
        waiting.add(unit.shard);
        continue;
      }
      const stream = streams.get(unit.streamId)!;
      const supervisor = new StreamSupervisor(unit, stream, {
        registry: this.registry,
        outbox: this.outbox,
        logger: this.logger,
        security: this.security,
        workerId: this.workerId,
        proxyUrl: this.proxyUrl,
      });
      this.supervisors.set(id, supervisor);
      supervisor.log.info({ shard: unit.shard }, 'unit started');
      supervisor.start();
    }
    // Over budget: give away shards none of whose units run here, so a worker with room takes them.
    const running = new Set([...this.supervisors.values()].map((s) => s.unit.shard));
    for (const shard of waiting) {
      if (running.has(shard)) continue;
      await this.registry.releaseShard(shard, this.workerId);
      this.held.delete(shard);
      this.logger.warn({ shard }, 'at stream budget; shard released for a worker with room');
    }
  }

  /** Writes the EMF metrics line once a minute when a CloudWatch namespace is configured. */
  private publishEmf(): void {
    const namespace = process.env.STREAMQC_EMF_NAMESPACE;
    if (!namespace || Date.now() - this.lastEmf < 60_000) return;
    this.lastEmf = Date.now();
    const lags = [...this.supervisors.values()].map((s) => s.lagSeconds);
    const record = emfRecord(namespace, {
      streams: this.supervisors.size,
      budget: this.config.streamBudget,
      maxLagSeconds: Math.max(0, ...lags),
    });
    process.stdout.write(`${JSON.stringify(record)}\n`);
  }

  /** Re-publishes the raised event of every open alarm of our streams, once per period. */
  private async resendOpenAlarms(): Promise<void> {
    const period = this.config.resendSeconds * 1000;
    if (!period || Date.now() - this.lastResend < period) return;
    this.lastResend = Date.now();
    const ours = new Set([...this.supervisors.values()].map((s) => s.unit.streamId));
    for (const alarm of await this.registry.allOpenAlarms()) {
      if (!ours.has(alarm.streamId)) continue;
      await this.outbox.submit(alarm.event, resendId(alarm.event, Math.floor(Date.now() / period)));
    }
  }
}
