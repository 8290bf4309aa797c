/**
 * The WebAssembly kernels (worker/detectors/kernels) against plain JavaScript written from their
 * definitions: the same numbers, bit for bit, on random pictures and sound of awkward sizes
 * (rows not a multiple of 16, blocks cut short, 1–8 channels, NaN and −0 samples); and the
 * committed binary is what kernels.wat assembles to.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AudioChunk, VideoFrame } from '../../../worker/converter/types.js';
import {
  blockChanges,
  blockPeaks,
  darkCount,
  framePower,
  kWeight,
  pairPeaks,
  pairSums,
  rowSteps,
  sampleGrid,
} from '../../../worker/detectors/kernels/kernels.js';
import { random } from '../../helpers/random.js';
import { ROOT } from '../../helpers/runCli.js';

function picture(rand: () => number, width: number, height: number, flat: boolean): VideoFrame {
  const luma = new Uint8Array(width * height);
  for (let i = 0; i < luma.length; i++)
    luma[i] = flat ? 16 + Math.floor(rand() * 3) : Math.floor(rand() * 256) & (i % 8 === 0 ? 0xf0 : 0xff);
  return {
    t: 0,
    wallMs: 0,
    duration: 0.04,
    interval: 0.04,
    width,
    height,
    luma,
    fullRange: false,
    pictType: 'P',
    scale: 1,
    rowStep: 8,
  };
}

function sound(rand: () => number, frames: number, channels: number, kind: number): AudioChunk {
  const samples = new Float32Array(frames * channels);
  for (let i = 0; i < samples.length; i++) {
    const r = rand();
    samples[i] =
      kind === 0
        ? (r - 0.5) * 2.2
        : kind === 1
          ? r * 1e-4
          : kind === 2
            ? i % 97 === 0
              ? Number.NaN
              : -0
            : r - 0.5;
  }
  return { t: 0, wallMs: 0, sampleRate: 48000, channels, samples };
}

const WIDTHS = [1280, 960, 1273, 700, 13, 16, 31, 1920, 160];

describe('WebAssembly kernels', () => {
  it('every committed WebAssembly module is its .wat assembled (npm run build:wasm)', async () => {
    const { assemble, MODULES } = await import(join(ROOT, 'scripts', 'build-wasm.mjs'));
    for (const module of MODULES) expect(readFileSync(module.out, 'utf8')).toBe(await assemble(module));
  });

  it('rowSteps: steps across block edges and inside blocks, on every rowStep-th row', () => {
    const rand = random(1);
    for (const width of WIDTHS)
      for (const grid of [4, 8, 16, 6]) {
        const frame = picture(rand, width, 1 + Math.floor(rand() * 40), rand() < 0.3);
        const rowStep = 1 + Math.floor(rand() * 2);
        let edges = 0;
        let inner = 0;
        for (let y = 0; y < frame.height; y += rowStep)
          for (let x = 1; x < width; x++) {
            const d = Math.abs(frame.luma[y * width + x] - frame.luma[y * width + x - 1]);
            if (x % grid === 0) edges += d;
            else inner += d;
          }
        expect(rowSteps(frame, grid, rowStep)).toEqual({ edges, inner });
      }
  });

  it('darkCount and sampleGrid: the samples of a sparse grid, their sum, the dark ones, the change', () => {
    const rand = random(2);
    for (const width of WIDTHS) {
      const frame = picture(rand, width, 1 + Math.floor(rand() * 90), rand() < 0.5);
      const step = Math.max(1, Math.floor(width / 160)) * (rand() < 0.5 ? 1 : 2);
      const first = Math.floor(rand() * step);
      const rowStep = rand() < 0.5 ? 1 : 2;
      const limit = Math.floor(rand() * 60);
      let dark = 0;
      let sum = 0;
      const grid: number[] = [];
      for (let y = 0; y < frame.height; y++)
        for (let x = first; x < width; x += step) {
          const v = frame.luma[y * width + x];
          sum += v;
          if (v < limit) dark++;
          if (y % rowStep === 0) grid.push(v);
        }
      expect(darkCount(frame, first, step, limit)).toEqual({ dark, sum });
      const out = new Uint8Array(grid.length);
      const previous = Uint8Array.from(grid, (v) => (v * 7 + 3) & 0xff);
      const change = grid.reduce((s, v, i) => s + Math.abs(v - previous[i]), 0);
      expect(sampleGrid(frame, first, step, rowStep, out, previous)).toBe(change);
      expect([...out]).toEqual(grid);
      expect(sampleGrid(frame, first, step, rowStep, out, null)).toBe(0);
    }
  });

  it('blockChanges: the largest mean |a − b| of a block and the largest |mean(a − b)|', () => {
    const rand = random(3);
    for (const [width, height] of [
      [160, 90],
      [160, 67],
      [157, 45],
      [7, 3],
      [240, 135],
    ]) {
      const a = Uint8Array.from({ length: width * height }, () => Math.floor(rand() * 256));
      const b = Uint8Array.from(a, (v) => (rand() < 0.2 ? Math.floor(rand() * 256) : v));
      let maxBlockDiff = 0;
      let maxMeanShift = 0;
      for (let top = 0; top < height; top += 8)
        for (let left = 0; left < width; left += 8) {
          let s = 0;
          let m = 0;
          let count = 0;
          for (let y = top; y < Math.min(top + 8, height); y++)
            for (let x = left; x < Math.min(left + 8, width); x++) {
              const d = a[y * width + x] - b[y * width + x];
              s += Math.abs(d);
              m += d;
              count++;
            }
          maxBlockDiff = Math.max(maxBlockDiff, s / count);
          maxMeanShift = Math.max(maxMeanShift, Math.abs(m) / count);
        }
      expect(blockChanges(a, b, width, height, 8)).toEqual({ maxBlockDiff, maxMeanShift });
    }
  });

  it('blockPeaks, pairPeaks, pairSums: per block of frames, NaN never a peak', () => {
    const rand = random(4);
    for (const channels of [1, 2, 3, 6, 8])
      for (const frames of [4800, 4410, 1000, 7, 1])
        for (const kind of [0, 1, 2, 3]) {
          const chunk = sound(rand, frames, channels, kind);
          const s = chunk.samples;
          const blockFrames = [960, 4800, 441, 1][Math.floor(rand() * 4)];
          const blocks = Math.ceil(frames / blockFrames);
          const peaks = new Float32Array(blocks);
          const pairs = new Float32Array(2 * blocks);
          const sums = new Float64Array(3 * blocks);
          for (let k = 0; k < blocks; k++) {
            const to = Math.min(frames, (k + 1) * blockFrames);
            for (let f = k * blockFrames; f < to; f++)
              for (let c = 0; c < channels; c++) {
                const v = Math.abs(s[f * channels + c]);
                if (v > peaks[k]) peaks[k] = v;
                if (c < 2 && v > pairs[2 * k + c]) pairs[2 * k + c] = v;
              }
            if (channels < 2) continue;
            for (let f = k * blockFrames; f < to; f++) {
              const l = s[f * channels];
              const r = s[f * channels + 1];
              sums[3 * k] += l * l;
              sums[3 * k + 1] += r * r;
              sums[3 * k + 2] += l * r;
            }
          }
          expect(blockPeaks(chunk, blockFrames)).toEqual(peaks);
          if (channels < 2) continue;
          expect(pairPeaks(chunk, blockFrames)).toEqual(pairs);
          expect(pairSums(chunk, blockFrames)).toEqual(sums);
        }
  });

  it('framePower: each frame’s mean power over channels, and the running sum in frame order', () => {
    const rand = random(5);
    for (const channels of [1, 2, 5, 8]) {
      const chunk = sound(rand, 4800, channels, 3);
      const from = Math.floor(rand() * 1000);
      const n = Math.floor(rand() * 3000);
      const into = new Float32Array(n + 10);
      const expected = new Float32Array(n + 10);
      let sum = 0.25;
      for (let f = from; f < from + n; f++) {
        let p = 0;
        for (let c = 0; c < channels; c++) p += chunk.samples[f * channels + c] ** 2;
        expected[f - from + 10] = p / channels;
        sum += p / channels;
      }
      expect(framePower(chunk, from, n, into, 10, 0.25)).toBe(sum);
      expect(into).toEqual(expected);
    }
  });

  it('grows its memory for larger pictures and chunks, answers unchanged', () => {
    const rand = random(7);
    const small = picture(rand, 320, 20, false);
    const before = darkCount(small, 1, 2, 40);
    // 3840 × 270: a 4K picture's delivered rows, more than the picture region held so far.
    const big = picture(rand, 3840, 270, false);
    let dark = 0;
    for (let y = 0; y < 270; y++) for (let x = 1; x < 3840; x += 2) if (big.luma[y * 3840 + x] < 40) dark++;
    expect(darkCount(big, 1, 2, 40).dark).toBe(dark);
    expect(darkCount(small, 1, 2, 40)).toEqual(before);
    const chunk = sound(rand, 48_000, 8, 0);
    const peaks = blockPeaks(chunk, 960);
    expect(peaks.length).toBe(50);
    expect(peaks[7]).toBe(Math.max(...chunk.samples.subarray(7 * 960 * 8, 8 * 960 * 8).map(Math.abs)));
    expect(darkCount(big, 1, 2, 40).dark).toBe(dark);
  });

  it('kWeight: the two biquads per channel, state carried from call to call, the chunk copied or in place', () => {
    const rand = random(6);
    const coef = Float64Array.from({ length: 7 }, () => rand() - 0.5);
    const [b0, b1, b2, a1, a2, c1, c2] = coef;
    for (const channels of [1, 2, 3, 6]) {
      const state = new Float64Array(channels * 6);
      const expectedState = new Float64Array(channels * 6);
      for (let call = 0; call < 4; call++) {
        const chunk = sound(rand, 2000, channels, 3);
        const from = Math.floor(rand() * 500);
        const to = from + Math.floor(rand() * 1500);
        const expectedSums = new Float64Array(channels);
        for (let ch = 0; ch < channels; ch++) {
          const o = ch * 6;
          let [x1, x2, y1, y2, z1, z2] = expectedState.subarray(o, o + 6);
          for (let f = from; f < to; f++) {
            const x = chunk.samples[f * channels + ch];
            const y = b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
            x2 = x1;
            x1 = x;
            const z = y - 2 * y1 + y2 - c1 * z1 - c2 * z2;
            y2 = y1;
            y1 = y;
            z2 = z1;
            z1 = z;
            expectedSums[ch] += z * z;
          }
          expectedState.set([x1, x2, y1, y2, z1, z2], o);
        }
        const sums = new Float64Array(channels);
        // Every other call, the chunk is in the kernels' memory already (as after audio.silence):
        // read where it lies.
        const before = chunk.samples.slice();
        if (call % 2) blockPeaks(chunk, 100);
        kWeight(chunk.samples, channels, from, to, coef, state, sums);
        expect(chunk.samples).toEqual(before);
        expect(sums).toEqual(expectedSums);
        expect(state).toEqual(expectedState);
      }
    }
  });
});
