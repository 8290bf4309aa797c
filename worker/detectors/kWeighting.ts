/**
 * The K-weighting pre-filter of ITU-R BS.1770: a high-shelf "head" filter followed by an RLB
 * high-pass, as two biquads whose coefficients are derived for any sample rate (the analog
 * prototype as published with libebur128, so 48 kHz reproduces the table in the standard).
 */
import { kWeight } from './kernels/kernels.js';

export interface Biquad {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

/** The two K-weighting stages for a sample rate. */
export function kWeightingStages(sampleRate: number): [Biquad, Biquad] {
  let f0 = 1681.974450955533;
  const gainDb = 3.999843853973347;
  let q = 0.7071752369554196;
  let k = Math.tan((Math.PI * f0) / sampleRate);
  const vh = 10 ** (gainDb / 20);
  const vb = vh ** 0.4996667741545416;
  let a0 = 1 + k / q + k * k;
  const shelf: Biquad = {
    b0: (vh + (vb * k) / q + k * k) / a0,
    b1: (2 * (k * k - vh)) / a0,
    b2: (vh - (vb * k) / q + k * k) / a0,
    a1: (2 * (k * k - 1)) / a0,
    a2: (1 - k / q + k * k) / a0,
  };
  f0 = 38.13547087602444;
  q = 0.5003270373238773;
  k = Math.tan((Math.PI * f0) / sampleRate);
  a0 = 1 + k / q + k * k;
  const highPass: Biquad = {
    b0: 1,
    b1: -2,
    b2: 1,
    a1: (2 * (k * k - 1)) / a0,
    a2: (1 - k / q + k * k) / a0,
  };
  return [shelf, highPass];
}

/** Channel weights of BS.1770 for the usual layouts: surrounds +1.5 dB, LFE excluded. */
export function channelWeights(channels: number): number[] {
  if (channels === 6) return [1, 1, 1, 0, 1.41, 1.41];
  if (channels === 8) return [1, 1, 1, 0, 1.41, 1.41, 1.41, 1.41];
  return new Array(channels).fill(1);
}

/** Streams interleaved audio through the K-weighting filter, summing weighted squares. */
export class KWeightedMeter {
  /** b0 b1 b2 a1 a2 of the shelf, a1 a2 of the high-pass (kernels.kWeight). */
  private readonly coef: Float64Array;
  private readonly weights: number[];
  /** Per channel: x1, x2, y1, y2 of stage 1, then y1, y2 of stage 2. */
  private readonly state: Float64Array;
  /** Per channel: the sum of squares of the last call. */
  private readonly sums: Float64Array;

  constructor(
    readonly sampleRate: number,
    readonly channels: number,
  ) {
    const [s, h] = kWeightingStages(sampleRate);
    this.coef = Float64Array.of(s.b0, s.b1, s.b2, s.a1, s.a2, h.a1, h.a2);
    this.weights = channelWeights(channels);
    this.state = new Float64Array(channels * 6);
    this.sums = new Float64Array(channels);
  }

  /**
   * Filters frames [from, to) of an interleaved buffer and returns the channel-weighted sum of
   * squared filtered samples (divide by the frame count for the mean square of BS.1770).
   */
  sumSquares(samples: Float32Array, from: number, to: number): number {
    const { channels, weights, sums } = this;
    kWeight(samples, channels, from, to, this.coef, this.state, sums);
    let total = 0;
    for (let ch = 0; ch < channels; ch++) {
      const w = weights[ch];
      if (w) total += w * sums[ch];
    }
    return total;
  }
}

/** Loudness in LUFS from a channel-weighted mean square. */
export function lufsFromMeanSquare(meanSquare: number): number {
  return meanSquare > 0 ? -0.691 + 10 * Math.log10(meanSquare) : Number.NEGATIVE_INFINITY;
}
