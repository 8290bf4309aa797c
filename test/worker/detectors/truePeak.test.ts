/**
 * True peak (BS.1770-4 Annex 2) chunk by chunk: the same as filtering every sample one at a time,
 * whatever the chunking; the skip of chunks that cannot reach a level is never wrong; and the
 * audio.true_peak rule on an inter-sample peak.
 */
import { describe, expect, it } from 'vitest';
import { resolveThresholds } from '../../../shared/thresholds.js';
import type { AudioChunk } from '../../../worker/converter/types.js';
import { TruePeakDetector } from '../../../worker/detectors/TruePeakDetector.js';
import { MAX_GAIN, TruePeak } from '../../../worker/detectors/truePeak.js';
import type { Observation } from '../../../worker/detectors/types.js';

const RATE = 48_000;

/** The Annex 2 taps again, written out as the standard tabulates them (48, in one column). */
const ANNEX_TAPS = [
  0.001708984375, 0.010986328125, -0.0196533203125, 0.033203125, -0.0594482421875, 0.1373291015625,
  0.97216796875, -0.102294921875, 0.047607421875, -0.026611328125, 0.014892578125, -0.00830078125,
  -0.0291748046875, 0.029296875, -0.0517578125, 0.089111328125, -0.16650390625, 0.465087890625, 0.77978515625,
  -0.2003173828125, 0.1015625, -0.0582275390625, 0.0330810546875, -0.0189208984375, -0.0189208984375,
  0.0330810546875, -0.0582275390625, 0.1015625, -0.2003173828125, 0.77978515625, 0.465087890625,
  -0.16650390625, 0.089111328125, -0.0517578125, 0.029296875, -0.0291748046875, -0.00830078125,
  0.014892578125, -0.026611328125, 0.047607421875, -0.102294921875, 0.97216796875, 0.1373291015625,
  -0.0594482421875, 0.033203125, -0.0196533203125, 0.010986328125, 0.001708984375,
];

/** One sample at a time, straight from the table: the reference. */
function referencePeak(samples: Float32Array, channels: number): number {
  let peak = 0;
  for (let ch = 0; ch < channels; ch++) {
    const history = new Array<number>(12).fill(0);
    for (let f = 0; f < samples.length / channels; f++) {
      const x = samples[f * channels + ch];
      peak = Math.max(peak, Math.abs(x));
      history.shift();
      history.push(x);
      for (let phase = 0; phase < 4; phase++) {
        let y = 0;
        for (let k = 0; k < 12; k++) y += ANNEX_TAPS[phase * 12 + k] * history[k];
        peak = Math.max(peak, Math.abs(y));
      }
    }
  }
  return peak;
}

/** Seeded noise with bursts: a programme-like signal. */
function programme(frames: number, channels: number, seed = 7): Float32Array {
  let s = seed;
  const random = () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31 - 0.5;
  };
  const out = new Float32Array(frames * channels);
  for (let f = 0; f < frames; f++) {
    const burst = Math.floor(f / 4800) % 3 === 1 ? 1.6 : 0.2;
    for (let c = 0; c < channels; c++) out[f * channels + c] = burst * random();
  }
  return out;
}

describe('TruePeak', () => {
  it('equals the per-sample filter of the table, however the sound is cut into chunks', () => {
    const signal = programme(48_000, 2);
    const expected = referencePeak(signal, 2);
    for (const chunk of [4800, 1024, 777, 13]) {
      const meter = new TruePeak(2);
      let peak = 0;
      for (let at = 0; at < signal.length; at += chunk * 2)
        peak = Math.max(peak, meter.peak(signal.subarray(at, at + chunk * 2)));
      expect(peak).toBeCloseTo(expected, 12);
    }
  });

  it('skips only chunks that cannot reach the level asked about', () => {
    const signal = programme(96_000, 2, 11);
    const meter = new TruePeak(2);
    const exact = new TruePeak(2);
    const floor = 0.6;
    for (let at = 0; at < signal.length; at += 9600) {
      const chunk = signal.subarray(at, at + 9600);
      const quick = meter.peak(chunk, floor);
      const full = exact.peak(chunk);
      if (full >= floor) expect(quick).toBeCloseTo(full, 12);
      else expect(quick).toBeLessThan(floor);
    }
    expect(meter.skipped).toBeGreaterThan(0);
    expect(meter.filtered).toBeGreaterThan(0);
    expect(MAX_GAIN).toBeCloseTo(2.023, 3);
  });
});

describe('audio.true_peak', () => {
  /** A 12 kHz (fs/4) sine 45° off its crests: samples at 0.707 of the true peak. */
  function interSample(seconds: number, truePeak: number): AudioChunk[] {
    const chunks: AudioChunk[] = [];
    for (let c = 0; c < seconds * 10; c++) {
      const samples = new Float32Array(9600);
      for (let i = 0; i < 4800; i++) {
        const n = c * 4800 + i;
        const v = truePeak * Math.sin((2 * Math.PI * n) / 4 + Math.PI / 4);
        samples[2 * i] = v;
        samples[2 * i + 1] = v;
      }
      chunks.push({ t: c / 10, wallMs: 0, sampleRate: RATE, channels: 2, samples });
    }
    return chunks;
  }

  function judge(chunks: AudioChunk[], limitDbtp?: number): Observation[] {
    const thresholds = resolveThresholds(limitDbtp === undefined ? {} : { truePeak: { limitDbtp } });
    const seen: Observation[] = [];
    const rule = new TruePeakDetector({
      thresholds,
      emit: (o) => seen.push(o),
      live: false,
      expect: { audio: true, video: true },
    });
    for (const chunk of chunks) rule.onAudio(chunk);
    return seen;
  }

  it('is over −1 dBTP with every sample at −3 dBFS (a true peak of 0 dBTP between them)', () => {
    const seen = judge(interSample(1, 1));
    // The filter's first taps see the silence before the tone: judge from the second chunk on.
    for (const o of seen.slice(1)) {
      expect(o.active).toBe(true);
      expect(Number(o.detail?.peakDbtp)).toBeGreaterThan(-0.4);
      expect(Number(o.detail?.peakDbtp)).toBeLessThan(0.2);
    }
  });

  it('is under the limit at −2 dBTP, and over a −3 dBTP limit (ATSC A/85 style, per stream)', () => {
    const tone = interSample(1, 10 ** (-2 / 20));
    expect(judge(tone).every((o) => !o.active)).toBe(true);
    expect(
      judge(tone, -3)
        .slice(1)
        .every((o) => o.active),
    ).toBe(true);
  });
});
