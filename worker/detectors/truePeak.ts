/**
 * True peak per ITU-R BS.1770-4 Annex 2: each channel upsampled 4× with the Annex's 48-tap
 * interpolation filter (4 phases of 12 taps), the largest absolute value of the interpolated
 * signal and of the samples themselves.
 *
 * The filter costs 48 multiply-adds per sample and channel. No interpolated value can exceed the
 * largest sample of the 12 it is made from times the largest phase's sum of absolute taps
 * (MAX_GAIN, 2.02: +6.1 dB), so a chunk whose samples all stay below `floor / MAX_GAIN` cannot
 * reach `floor` and is not filtered: programme a few dB under the limit costs one pass.
 */

/** BS.1770-4 Annex 2: the interpolation filter as 4 phases of 12 taps (newest sample last). */
const PHASES = [
  [
    0.001708984375, 0.010986328125, -0.0196533203125, 0.033203125, -0.0594482421875, 0.1373291015625,
    0.97216796875, -0.102294921875, 0.047607421875, -0.026611328125, 0.014892578125, -0.00830078125,
  ],
  [
    -0.0291748046875, 0.029296875, -0.0517578125, 0.089111328125, -0.16650390625, 0.465087890625,
    0.77978515625, -0.2003173828125, 0.1015625, -0.0582275390625, 0.0330810546875, -0.0189208984375,
  ],
  [
    -0.0189208984375, 0.0330810546875, -0.0582275390625, 0.1015625, -0.2003173828125, 0.77978515625,
    0.465087890625, -0.16650390625, 0.089111328125, -0.0517578125, 0.029296875, -0.0291748046875,
  ],
  [
    -0.00830078125, 0.014892578125, -0.026611328125, 0.047607421875, -0.102294921875, 0.97216796875,
    0.1373291015625, -0.0594482421875, 0.033203125, -0.0196533203125, 0.010986328125, 0.001708984375,
  ],
].map((taps) => Float64Array.from(taps));
const TAPS = 12;

/** The largest gain any phase can give: the bound on an interpolated value over its 12 samples. */
export const MAX_GAIN = Math.max(...PHASES.map((taps) => taps.reduce((s, k) => s + Math.abs(k), 0)));

/** A true-peak meter for interleaved float samples, chunk after chunk. */
export class TruePeak {
  /** Per channel: the last TAPS − 1 samples, then room for a chunk. */
  private lines: Float64Array[];
  /** Chunks the filter ran on, and chunks it could skip (for the cost report and tests). */
  filtered = 0;
  skipped = 0;
  /** The largest sample (linear) of the last chunk. */
  samplePeak = 0;

  constructor(readonly channels: number) {
    this.lines = Array.from({ length: channels }, () => new Float64Array(TAPS - 1));
  }

  /**
   * The largest true peak (linear, 1 = full scale) in this chunk, interpolated values between its
   * samples and the previous chunk's last ones included. When it cannot reach `floor`, the chunk's
   * largest sample is returned instead (less than `floor`, and a lower bound of the true peak).
   */
  peak(samples: Float32Array, floor = 0): number {
    const { channels } = this;
    const frames = samples.length / channels;
    let samplePeak = 0;
    for (let i = 0; i < samples.length; i++) {
      const a = samples[i] < 0 ? -samples[i] : samples[i];
      if (a > samplePeak) samplePeak = a;
    }
    let reach = samplePeak;
    for (const line of this.lines)
      for (let i = 0; i < TAPS - 1; i++) {
        const a = line[i] < 0 ? -line[i] : line[i];
        if (a > reach) reach = a;
      }
    this.samplePeak = samplePeak;
    const filter = reach * MAX_GAIN > floor;
    if (filter) this.filtered++;
    else this.skipped++;
    let peak = samplePeak;
    for (let ch = 0; ch < channels; ch++) {
      let line = this.lines[ch];
      if (line.length !== TAPS - 1 + frames) {
        const longer = new Float64Array(TAPS - 1 + frames);
        longer.set(line.subarray(0, TAPS - 1));
        line = longer;
        this.lines[ch] = line;
      }
      for (let f = 0; f < frames; f++) line[TAPS - 1 + f] = samples[f * channels + ch];
      if (filter) peak = Math.max(peak, interpolatedPeak(line, frames, Math.max(peak, floor)));
      // Keep the last TAPS − 1 samples at the front for the next chunk.
      line.copyWithin(0, frames, frames + TAPS - 1);
    }
    return peak;
  }
}

/** Samples per block of the local bound: a 12-tap window lies within two blocks. */
const BLOCK = 16;

/**
 * The largest |value| of the 4 interpolated points after each of the last `frames` samples.
 * Windows whose 12 samples cannot beat the larger of `floor` and the peak found so far (their
 * largest × MAX_GAIN) are not filtered: exact above `floor`, a lower bound below it; and on
 * programme audio most of a chunk lies well under its own peak.
 */
function interpolatedPeak(line: Float64Array, frames: number, floor: number): number {
  let peak = 0;
  const [p0, p1, p2, p3] = PHASES;
  const blocks = Math.ceil((frames + TAPS) / BLOCK);
  const blockMax = new Float64Array(blocks + 1);
  for (let i = 0; i < frames + TAPS - 1; i++) {
    const a = line[i] < 0 ? -line[i] : line[i];
    const b = (i / BLOCK) | 0;
    if (a > blockMax[b]) blockMax[b] = a;
  }
  for (let b = 0; b * BLOCK < frames; b++) {
    if (Math.max(blockMax[b], blockMax[b + 1]) * MAX_GAIN <= Math.max(peak, floor)) continue;
    const end = Math.min(frames, (b + 1) * BLOCK);
    for (let f = b * BLOCK; f < end; f++) {
      let y0 = 0;
      let y1 = 0;
      let y2 = 0;
      let y3 = 0;
      for (let k = 0; k < TAPS; k++) {
        const x = line[f + k];
        y0 += p0[k] * x;
        y1 += p1[k] * x;
        y2 += p2[k] * x;
        y3 += p3[k] * x;
      }
      const m = Math.max(y0 < 0 ? -y0 : y0, y1 < 0 ? -y1 : y1, y2 < 0 ? -y2 : y2, y3 < 0 ? -y3 : y3);
      if (m > peak) peak = m;
    }
  }
  return peak;
}
