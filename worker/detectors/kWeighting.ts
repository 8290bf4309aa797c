/**
 * The K-weighting pre-filter of ITU-R BS.1770: a high-shelf "head" filter followed by an RLB
 * high-pass, as two biquads whose coefficients are derived for any sample rate (the analog
 * prototype as published with libebur128, so 48 kHz reproduces the table in the standard).
 */

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
  private readonly stages: [Biquad, Biquad];
  private readonly weights: number[];
  /** Per channel: x1, x2, y1, y2 of stage 1, then y1, y2 of stage 2. */
  private readonly state: Float64Array;
  /** Per channel: the sum of squares of the last call. */
  private readonly sums: Float64Array;

  constructor(
    readonly sampleRate: number,
    readonly channels: number,
  ) {
    this.stages = kWeightingStages(sampleRate);
    this.weights = channelWeights(channels);
    this.state = new Float64Array(channels * 6);
    this.sums = new Float64Array(channels);
  }

  /**
   * Filters frames [from, to) of an interleaved buffer and returns the channel-weighted sum of
   * squared filtered samples (divide by the frame count for the mean square of BS.1770).
   */
  sumSquares(samples: Float32Array, from: number, to: number): number {
    const { channels, weights } = this;
    const sums = this.sums;
    // Channels two at a time: each filter is a chain of dependent multiplications, and two
    // independent chains in one loop keep the processor busy where one leaves it waiting.
    for (let ch = 0; ch < channels; ch += 2) {
      if (ch + 1 < channels) this.filterPair(samples, from, to, ch);
      else sums[ch] = this.filterOne(samples, from, to, ch);
    }
    let total = 0;
    for (let ch = 0; ch < channels; ch++) {
      const w = weights[ch];
      if (w) total += w * sums[ch];
    }
    return total;
  }

  /** One channel through both stages; returns its sum of squares and keeps its state. */
  private filterOne(samples: Float32Array, from: number, to: number, ch: number): number {
    const [s, h] = this.stages;
    const { b0, b1, b2, a1, a2 } = s;
    const c1 = h.a1;
    const c2 = h.a2;
    const { channels, state } = this;
    const o = ch * 6;
    let x1 = state[o];
    let x2 = state[o + 1];
    let y1 = state[o + 2];
    let y2 = state[o + 3];
    let z1 = state[o + 4];
    let z2 = state[o + 5];
    let sum = 0;
    for (let i = from * channels + ch; i < to * channels; i += channels) {
      const x = samples[i];
      const y = b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
      x2 = x1;
      x1 = x;
      // Stage 2 input is y; its b-coefficients are 1, −2, 1.
      const z = y - 2 * y1 + y2 - c1 * z1 - c2 * z2;
      y2 = y1;
      y1 = y;
      z2 = z1;
      z1 = z;
      sum += z * z;
    }
    state[o] = x1;
    state[o + 1] = x2;
    state[o + 2] = y1;
    state[o + 3] = y2;
    state[o + 4] = z1;
    state[o + 5] = z2;
    return sum;
  }

  /** Channels ch and ch + 1 through both stages in one pass: the same arithmetic as filterOne. */
  private filterPair(samples: Float32Array, from: number, to: number, ch: number): void {
    const [s, h] = this.stages;
    const { b0, b1, b2, a1, a2 } = s;
    const c1 = h.a1;
    const c2 = h.a2;
    const { channels, state, sums } = this;
    const o = ch * 6;
    const p = o + 6;
    let x1 = state[o];
    let x2 = state[o + 1];
    let y1 = state[o + 2];
    let y2 = state[o + 3];
    let z1 = state[o + 4];
    let z2 = state[o + 5];
    let u1 = state[p];
    let u2 = state[p + 1];
    let v1 = state[p + 2];
    let v2 = state[p + 3];
    let w1 = state[p + 4];
    let w2 = state[p + 5];
    let sum = 0;
    let sumNext = 0;
    for (let i = from * channels + ch; i < to * channels; i += channels) {
      const x = samples[i];
      const u = samples[i + 1];
      const y = b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
      const v = b0 * u + b1 * u1 + b2 * u2 - a1 * v1 - a2 * v2;
      x2 = x1;
      x1 = x;
      u2 = u1;
      u1 = u;
      const z = y - 2 * y1 + y2 - c1 * z1 - c2 * z2;
      const w = v - 2 * v1 + v2 - c1 * w1 - c2 * w2;
      y2 = y1;
      y1 = y;
      v2 = v1;
      v1 = v;
      z2 = z1;
      z1 = z;
      w2 = w1;
      w1 = w;
      sum += z * z;
      sumNext += w * w;
    }
    state.set([x1, x2, y1, y2, z1, z2, u1, u2, v1, v2, w1, w2], o);
    sums[ch] = sum;
    sums[ch + 1] = sumNext;
  }
}

/** Loudness in LUFS from a channel-weighted mean square. */
export function lufsFromMeanSquare(meanSquare: number): number {
  return meanSquare > 0 ? -0.691 + 10 * Math.log10(meanSquare) : Number.NEGATIVE_INFINITY;
}
