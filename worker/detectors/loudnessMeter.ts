/**
 * A programme loudness meter per ITU-R BS.1770-4 and EBU Tech 3341/3342: momentary (400 ms),
 * short-term (3 s), integrated (gated at −70 LUFS and 10 LU below the ungated level), loudness
 * range (EBU Tech 3342: short-term values every 100 ms, gated at −70 LUFS and 20 LU below their
 * energy mean, 95th minus 10th percentile) and true peak (4× oversampling with the interpolation
 * filter of BS.1770-4 Annex 2). Levels are kept in histograms of 0.01 LU bins with each bin's
 * energy summed exactly, so a meter running for hours holds a few hundred kilobytes. True peak:
truePeak.ts.
 */
import { KWeightedMeter, lufsFromMeanSquare } from './kWeighting.js';
import { TruePeak } from './truePeak.js';

const SUB_BLOCK_SECONDS = 0.1;
const MOMENTARY_SUB_BLOCKS = 4;
const SHORT_TERM_SUB_BLOCKS = 30;
const ABSOLUTE_GATE = -70;
const INTEGRATED_RELATIVE_GATE = 10;
const RANGE_RELATIVE_GATE = 20;
/** Histogram bins: 0.01 LU from the absolute gate up to +10 LUFS. */
const BIN_LU = 0.01;
const BINS = Math.round((10 - ABSOLUTE_GATE) / BIN_LU);

/** Loudness values gated at −70 LUFS, by 0.01 LU bin: how many, and their energies' sum. */
class LevelHistogram {
  readonly counts = new Float64Array(BINS);
  readonly energies = new Float64Array(BINS);

  add(meanSquare: number): void {
    const lufs = lufsFromMeanSquare(meanSquare);
    if (!(lufs > ABSOLUTE_GATE)) return;
    const bin = Math.min(BINS - 1, Math.floor((lufs - ABSOLUTE_GATE) / BIN_LU));
    this.counts[bin]++;
    this.energies[bin] += meanSquare;
  }

  /** The first bin at or above a level. */
  static binOf(lufs: number): number {
    return Math.max(0, Math.min(BINS, Math.ceil((lufs - ABSOLUTE_GATE) / BIN_LU - 1e-9)));
  }

  /** Loudness of the energy mean of the values from bin `from` on (−∞ when none). */
  meanFrom(from: number): number {
    let count = 0;
    let energy = 0;
    for (let b = from; b < BINS; b++) {
      count += this.counts[b];
      energy += this.energies[b];
    }
    return count ? lufsFromMeanSquare(energy / count) : Number.NEGATIVE_INFINITY;
  }
}

export class LoudnessMeter {
  private readonly meter: KWeightedMeter;
  private readonly subBlockFrames: number;
  private filled = 0;
  private sum = 0;
  /** The last 30 sub-blocks' mean squares, newest at (count − 1) % 30. */
  private readonly recent = new Float64Array(SHORT_TERM_SUB_BLOCKS);
  private subBlocks = 0;
  private readonly gatingBlocks = new LevelHistogram();
  private readonly shortTermValues = new LevelHistogram();
  private readonly peakMeter: TruePeak;
  private peak = 0;
  private samplePeak = 0;

  constructor(
    readonly sampleRate: number,
    readonly channels: number,
    private readonly truePeak = true,
  ) {
    this.meter = new KWeightedMeter(sampleRate, channels);
    this.subBlockFrames = Math.round(sampleRate * SUB_BLOCK_SECONDS);
    this.peakMeter = new TruePeak(channels);
  }

  /** Interleaved samples. */
  push(samples: Float32Array): void {
    const frames = samples.length / this.channels;
    if (this.truePeak) {
      // Only chunks that could beat the highest peak so far need the interpolation filter.
      this.peak = Math.max(this.peak, this.peakMeter.peak(samples, this.peak));
      this.samplePeak = Math.max(this.samplePeak, this.peakMeter.samplePeak);
    }
    let at = 0;
    while (at < frames) {
      const take = Math.min(frames - at, this.subBlockFrames - this.filled);
      this.sum += this.meter.sumSquares(samples, at, at + take);
      this.filled += take;
      at += take;
      if (this.filled === this.subBlockFrames) this.closeSubBlock();
    }
  }

  private closeSubBlock(): void {
    this.recent[this.subBlocks % SHORT_TERM_SUB_BLOCKS] = this.sum / this.subBlockFrames;
    this.subBlocks++;
    this.sum = 0;
    this.filled = 0;
    // Gating blocks of 400 ms, overlapping by 75 %: one per sub-block once four are in.
    if (this.subBlocks >= MOMENTARY_SUB_BLOCKS) this.gatingBlocks.add(this.meanOfLast(MOMENTARY_SUB_BLOCKS));
    // Short-term values for the loudness range: one per sub-block (10 Hz) once 3 s are in.
    if (this.subBlocks >= SHORT_TERM_SUB_BLOCKS)
      this.shortTermValues.add(this.meanOfLast(SHORT_TERM_SUB_BLOCKS));
  }

  private meanOfLast(n: number): number {
    let s = 0;
    for (let i = 1; i <= n; i++) s += this.recent[(this.subBlocks - i) % SHORT_TERM_SUB_BLOCKS];
    return s / n;
  }

  /** Momentary loudness (the last 400 ms), LUFS; −∞ before 400 ms. */
  get momentary(): number {
    return this.subBlocks >= MOMENTARY_SUB_BLOCKS
      ? lufsFromMeanSquare(this.meanOfLast(MOMENTARY_SUB_BLOCKS))
      : Number.NEGATIVE_INFINITY;
  }

  /** Short-term loudness (the last 3 s), LUFS; −∞ before 3 s. */
  get shortTerm(): number {
    return this.subBlocks >= SHORT_TERM_SUB_BLOCKS
      ? lufsFromMeanSquare(this.meanOfLast(SHORT_TERM_SUB_BLOCKS))
      : Number.NEGATIVE_INFINITY;
  }

  /** Integrated loudness since the start, LUFS (BS.1770-4 gating); −∞ when all was below −70. */
  get integrated(): number {
    const ungated = this.gatingBlocks.meanFrom(0);
    if (ungated === Number.NEGATIVE_INFINITY) return ungated;
    return this.gatingBlocks.meanFrom(LevelHistogram.binOf(ungated - INTEGRATED_RELATIVE_GATE));
  }

  /** Loudness range since the start, LU (EBU Tech 3342); 0 until there are short-term values. */
  get range(): number {
    const h = this.shortTermValues;
    const ungated = h.meanFrom(0);
    if (ungated === Number.NEGATIVE_INFINITY) return 0;
    const from = LevelHistogram.binOf(ungated - RANGE_RELATIVE_GATE);
    let total = 0;
    for (let b = from; b < BINS; b++) total += h.counts[b];
    if (!total) return 0;
    const percentile = (p: number) => {
      const rank = Math.max(1, Math.ceil(p * total));
      let seen = 0;
      for (let b = from; b < BINS; b++) {
        seen += h.counts[b];
        if (seen >= rank) return ABSOLUTE_GATE + (b + 0.5) * BIN_LU;
      }
      return ABSOLUTE_GATE + BINS * BIN_LU;
    };
    return percentile(0.95) - percentile(0.1);
  }

  /** The highest true peak since the start, dBTP (−∞ for digital silence). */
  get truePeakDbtp(): number {
    return this.peak > 0 ? 20 * Math.log10(this.peak) : Number.NEGATIVE_INFINITY;
  }

  /** The highest sample since the start, dBFS. */
  get samplePeakDbfs(): number {
    return this.samplePeak > 0 ? 20 * Math.log10(this.samplePeak) : Number.NEGATIVE_INFINITY;
  }
}
