/**
 * How much more a worker can take, from what it measures rather than a static budget: the CPU its
 * process and its decoders use (cores, smoothed over about 10 s), what one running stream costs
 * on average, and how late its event loop runs. It claims a unit only while the projected use
 * stays under the claim target, and sheds (hands units back to waiting) when it has been over the
 * shed line, or its event loop has been late, for several samples in a row: a worker that cannot
 * keep up gives work away instead of thrashing. The static budget stays the ceiling.
 */

export interface HeadroomOptions {
  /** Cores this worker may use (STREAMQC_CPU_CORES, else the machine's). */
  cores: number;
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
const COOLDOWN_MS = 15_000;
/** Smoothing of the CPU measurement (seconds). */
const HORIZON_SECONDS = 10;

export interface HeadroomSample {
  now: number;
  /** CPU seconds used so far by the worker process and its decoders (monotonic). */
  cpuSeconds: number;
  /** Units running. */
  running: number;
  /** Units started within the last HORIZON_SECONDS (not yet fully in the measurement). */
  young: number;
  loopDelayP99: number;
  /** Units more than a few seconds behind the live edge (their decoders do not keep up). */
  lagging: number;
}

export class Headroom {
  private last: { now: number; cpu: number } | null = null;
  /** Cores used, smoothed. */
  usedCores = 0;
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
    if (this.last && s.now > this.last.now) {
      const cores = (s.cpuSeconds - this.last.cpu) / ((s.now - this.last.now) / 1000);
      const a = Math.min(1, (s.now - this.last.now) / 1000 / HORIZON_SECONDS);
      this.usedCores += a * (Math.max(0, cores) - this.usedCores);
    }
    this.last = { now: s.now, cpu: s.cpuSeconds };
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

  /** Units this worker could start now without going over the claim target. */
  room(now: number): number {
    if (now < this.cooldownUntil) return 0;
    const per = this.perStreamCores;
    const projected = this.usedCores + this.young * per;
    return Math.max(0, Math.floor((this.options.claimTarget * this.options.cores - projected) / per));
  }

  /** Units to hand back now (0 unless over the line for several samples and not cooling down). */
  shed(now: number): number {
    if (this.over < SUSTAIN_SAMPLES || now < this.cooldownUntil || this.running <= 1) return 0;
    const per = this.perStreamCores;
    // Shed down to the claim target; at least one unit (a late event loop or lagging decoders
    // may come with CPU to spare on paper: the cores are shared with others).
    const excess = Math.ceil((this.usedCores - this.options.claimTarget * this.options.cores) / per);
    const count = Math.min(Math.max(1, excess), Math.ceil(this.running / 4));
    this.cooldownUntil = now + COOLDOWN_MS;
    this.over = 0;
    return count;
  }
}
