/**
 * How much more a worker can take, from what it measures rather than a static budget: the CPU its
 * process and its decoders use, the CPU the whole machine uses (other processes share the cores:
 * another worker, a sender, a neighbour), what one running stream costs on average, and how late
 * its event loop runs. It claims a unit only while the projected use of the machine stays under
 * the claim target, and sheds (hands units back to waiting) when it has been over the shed line,
 * its event loop late, or several of its streams behind the live edge, for several samples in a
 * row: a worker that cannot keep up gives work away instead of thrashing, and does not claim
 * back up to the load it shed at for a while. The static budget stays the ceiling.
 */

export interface HeadroomOptions {
  /** Cores this worker may use (STREAMQC_CPU_CORES, else the machine's). */
  cores: number;
  /**
   * Cores of the machine that /proc/stat counts (default: `cores`). A worker given a share of a
   * bigger machine judges the machine's load as a fraction of the whole.
   */
  machineCores?: number;
  /** Claim while projected use ≤ this share of the cores. */
  claimTarget: number;
  /** Shed when measured use stays above this share of the cores. */
  shedAbove: number;
  /** Shed when the event loop's p99 delay stays above this, seconds. */
  loopDelayShedSeconds: number;
  /** Cost assumed for a stream before any has been measured, cores. */
  coldStreamCores: number;
}

/** Samples over the shed line in a row before shedding. */
const SUSTAIN_SAMPLES = 3;
/** After shedding, this long without shedding again or claiming (the measurement settles). */
const COOLDOWN_MS = 10_000;
/** After shedding, the worker claims back to at most the load it could carry, for this long. */
const CEILING_MS = 120_000;
/** Smoothing of the CPU measurement (seconds): short, so a burst of opens shows within a few ticks. */
const HORIZON_SECONDS = 4;
/** Units a worker may always hold, however busy other processes keep the machine. */
const NEIGHBOUR_FLOOR = 8;
/** The machine counts as saturated above this share of its cores: demand is then unknown. */
const SATURATED = 0.97;

export interface HeadroomSample {
  now: number;
  /** CPU seconds used so far by the worker process and its decoders (monotonic). */
  cpuSeconds: number;
  /** CPU seconds the whole machine has been busy so far (monotonic); null where unknown. */
  hostCpuSeconds?: number | null;
  /** Units running. */
  running: number;
  /** Units started within the last few seconds (the agent's YOUNG_MS): not yet fully in the measurement. */
  young: number;
  loopDelayP99: number;
  /** Units more than a few seconds behind the live edge (their decoders do not keep up). */
  lagging: number;
}

export class Headroom {
  private last: { now: number; cpu: number; host: number | null } | null = null;
  /** Cores this worker and its decoders use, smoothed. */
  usedCores = 0;
  /**
   * How busy the machine is (this worker included), smoothed, in this worker's cores (the busy
   * share of the machine × `cores`); this worker's own use where unknown.
   */
  hostCores = 0;
  /** Units this worker carries at most until `ceilingUntil` (what it could run when it last shed). */
  private ceiling = Number.POSITIVE_INFINITY;
  private ceilingUntil = 0;
  private lagging = 0;
  loopDelayP99 = 0;
  private over = 0;
  private cooldownUntil = 0;
  private running = 0;
  private young = 0;
  /** Why the worker shed last, for the units' waiting reason. */
  reason = '';

  constructor(readonly options: HeadroomOptions) {}

  sample(s: HeadroomSample): void {
    this.running = s.running;
    this.young = s.young;
    this.loopDelayP99 = s.loopDelayP99;
    this.lagging = s.lagging;
    const host = s.hostCpuSeconds ?? null;
    if (this.last && s.now > this.last.now) {
      const seconds = (s.now - this.last.now) / 1000;
      const a = Math.min(1, seconds / HORIZON_SECONDS);
      const own = Math.max(0, (s.cpuSeconds - this.last.cpu) / seconds);
      this.usedCores += a * (own - this.usedCores);
      // The machine's busy share, in this worker's cores (a worker may have a share of it).
      const scale = this.options.cores / (this.options.machineCores ?? this.options.cores);
      const machine =
        host !== null && this.last.host !== null ? ((host - this.last.host) / seconds) * scale : own;
      this.hostCores += a * (Math.max(own, machine) - this.hostCores);
    }
    this.last = { now: s.now, cpu: s.cpuSeconds, host };
    // Shedding answers this worker's own trouble: its own use over the line, its event loop late,
    // its streams behind. A busy neighbour alone stops claims (room), not running streams.
    const cpuOver = this.usedCores > this.options.shedAbove * this.options.cores;
    const loopOver = s.loopDelayP99 > this.options.loopDelayShedSeconds;
    // One stream behind may be its own source; several at once are this worker.
    const behind = s.lagging >= Math.max(2, Math.ceil(s.running / 10));
    this.over = cpuOver || loopOver || behind ? this.over + 1 : 0;
    if (cpuOver) this.reason = `using ${this.usedCores.toFixed(2)} of ${this.options.cores} cores`;
    else if (loopOver) this.reason = `event loop ${Math.round(s.loopDelayP99 * 1000)} ms late`;
    else if (behind) this.reason = `${s.lagging} streams behind the live edge`;
  }

  /** Measured cost of one running stream, cores (the cold estimate until streams run). */
  get perStreamCores(): number {
    const mature = this.running - this.young;
    if (mature <= 0) return this.options.coldStreamCores;
    // Young units are barely in the measurement yet: the mature ones carry what is used.
    return Math.max(this.options.coldStreamCores / 4, this.usedCores / mature);
  }

  /** Units this worker could start now without taking the machine over the claim target. */
  room(now: number): number {
    if (now < this.cooldownUntil) return 0;
    const per = this.perStreamCores;
    const target = this.options.claimTarget * this.options.cores;
    // Units not yet in the measurement cost at least the cold estimate (their opens cost more).
    const youngCost = this.young * Math.max(per, this.options.coldStreamCores);
    const byMachine = Math.floor((target - this.hostCores - youngCost) / per);
    // A busy neighbour cannot keep a worker below a few units: its own use still has to allow them.
    const byOwn = Math.floor((target - this.usedCores - youngCost) / per);
    const floor = Math.min(byOwn, NEIGHBOUR_FLOOR - this.running - this.young);
    const byCeiling = now < this.ceilingUntil ? this.ceiling - this.running : Number.POSITIVE_INFINITY;
    return Math.max(0, Math.min(Math.max(byMachine, floor), byCeiling));
  }

  /** Units to hand back now (0 unless over the line for several samples and not cooling down). */
  shed(now: number): number {
    if (this.over < SUSTAIN_SAMPLES || now < this.cooldownUntil || this.running <= 1) return 0;
    const per = this.perStreamCores;
    // Down to the claim target on the machine. A saturated machine hides what its streams would
    // need, and lagging decoders need CPU beyond real time to catch up: then shed more.
    const excess = Math.ceil((this.hostCores - this.options.claimTarget * this.options.cores) / per);
    const saturated = this.hostCores >= SATURATED * this.options.cores ? Math.ceil(this.running / 8) : 0;
    const count = Math.min(
      Math.max(1, excess, saturated, Math.ceil(this.lagging / 2)),
      Math.ceil(this.running / 4),
    );
    this.cooldownUntil = now + COOLDOWN_MS;
    this.ceiling = this.running - count;
    this.ceilingUntil = now + CEILING_MS;
    this.over = 0;
    return count;
  }
}
