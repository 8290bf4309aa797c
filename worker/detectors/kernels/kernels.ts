/**
 * The detectors' inner loops, run in WebAssembly (kernels.wat, SIMD where the data is dense):
 * in JavaScript they cost as much again as the rest of a stream's analysis, and each ran in V8's
 * interpreter until its optimised code was ready, for every stream's first pictures. One instance
 * per process; its memory holds the picture and the sound chunk being judged — each copied in
 * once, however many detectors ask (they are asked one after another about the same frame) —
 * then each call's scratch. JavaScript runs one call at a time, so nothing overlaps.
 */
import type { AudioChunk, VideoFrame } from '../../converter/types.js';
import { KERNELS_WASM } from './kernelsWasm.js';

interface Kernels {
  memory: WebAssembly.Memory;
  second: WebAssembly.Global;
  secondF: WebAssembly.Global;
  steps(ptr: number, width: number, height: number, grid: number, rowStep: number): number;
  dark(ptr: number, width: number, height: number, first: number, step: number, limit: number): number;
  sample(
    src: number,
    width: number,
    height: number,
    first: number,
    step: number,
    rowStep: number,
    dst: number,
  ): number;
  absDiffSum(a: number, b: number, n: number): number;
  blockChange(a: number, b: number, width: number, height: number, block: number): number;
  peaks(ptr: number, frames: number, channels: number, blockFrames: number, dst: number): number;
  pairPeaks(ptr: number, frames: number, channels: number, blockFrames: number, dst: number): number;
  pairSums(ptr: number, frames: number, channels: number, blockFrames: number, dst: number): number;
  framePower(ptr: number, from: number, n: number, channels: number, dst: number, sum: number): number;
  kWeight(
    ptr: number,
    from: number,
    to: number,
    channels: number,
    ch: number,
    pair: number,
    coef: number,
    state: number,
    sums: number,
  ): void;
}

const k = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(KERNELS_WASM, 'base64')))
  .exports as unknown as Kernels;

const PAGE = 65536;
/** Where the picture, the sound chunk and the scratch start; grown (and moved) as needed. */
const pictureAt = 0;
let soundAt = 256 * 1024;
let scratchAt = 512 * 1024;
let bytes = new Uint8Array(k.memory.buffer);
let floats = new Float32Array(k.memory.buffer);
let doubles = new Float64Array(k.memory.buffer);
/** The frame and chunk whose data is in memory now. */
let placedFrame: VideoFrame | null = null;
let placedChunk: AudioChunk | null = null;

/** Room for a picture of `pictureBytes`, a chunk of `soundBytes` and `scratchBytes` of scratch. */
function room(pictureBytes: number, soundBytes: number, scratchBytes: number): void {
  if (
    pictureBytes <= soundAt - pictureAt &&
    soundBytes <= scratchAt - soundAt &&
    scratchAt + scratchBytes <= k.memory.buffer.byteLength
  )
    return;
  // Regions on 16-byte boundaries (float and double views), each at least as big as before.
  const align = (n: number) => Math.ceil(n / 16) * 16;
  const pictureRoom = align(Math.max(soundAt - pictureAt, pictureBytes));
  const soundRoom = align(Math.max(scratchAt - soundAt, soundBytes));
  soundAt = pictureAt + pictureRoom;
  scratchAt = soundAt + soundRoom;
  const needed = scratchAt + align(scratchBytes);
  const have = k.memory.buffer.byteLength;
  if (needed > have) k.memory.grow(Math.ceil((needed - have) / PAGE));
  bytes = new Uint8Array(k.memory.buffer);
  floats = new Float32Array(k.memory.buffer);
  doubles = new Float64Array(k.memory.buffer);
  placedFrame = null;
  placedChunk = null;
}

/** The frame's luma in memory (copied once per frame); returns where. */
function picture(frame: VideoFrame, scratchBytes = 0): number {
  room(frame.luma.length, 0, scratchBytes);
  if (placedFrame !== frame) {
    bytes.set(frame.luma, pictureAt);
    placedFrame = frame;
  }
  return pictureAt;
}

/** The chunk's samples in memory (copied once per chunk); returns where. */
function sound(chunk: AudioChunk, scratchBytes = 0): number {
  room(0, chunk.samples.length * 4, scratchBytes);
  if (placedChunk !== chunk) {
    floats.set(chunk.samples, soundAt / 4);
    placedChunk = chunk;
  }
  return soundAt;
}

/**
 * On rows 0, rowStep … of the picture: the sum of |p[x] − p[x−1]| over x = k·grid (block edges)
 * and over every other x ≥ 1.
 */
export function rowSteps(frame: VideoFrame, grid: number, rowStep: number): { edges: number; inner: number } {
  const at = picture(frame);
  const total = k.steps(at, frame.width, frame.height, grid, rowStep);
  const edges = k.second.value as number;
  return { edges, inner: total - edges };
}

/** Of the samples x = first, first + step … of every row: how many are below `limit`, and their sum. */
export function darkCount(
  frame: VideoFrame,
  first: number,
  step: number,
  limit: number,
): { dark: number; sum: number } {
  const at = picture(frame);
  const dark = k.dark(at, frame.width, frame.height, first, step, limit);
  return { dark, sum: k.second.value as number };
}

/**
 * Samples x = first, first + step … < width of rows 0, rowStep … into `out` (row after row;
 * `out` has the size); with `previous` of the same size, returns Σ |out[i] − previous[i]|.
 */
export function sampleGrid(
  frame: VideoFrame,
  first: number,
  step: number,
  rowStep: number,
  out: Uint8Array,
  previous?: Uint8Array | null,
): number {
  const n = out.length;
  const at = picture(frame, 2 * n);
  const dst = scratchAt;
  k.sample(at, frame.width, frame.height, first, step, rowStep, dst);
  out.set(bytes.subarray(dst, dst + n));
  if (previous?.length !== n) return 0;
  bytes.set(previous, dst + n);
  return k.absDiffSum(dst, dst + n, n);
}

/**
 * Two width×height sample grids compared block×block (block ≤ 128): the largest mean |a − b| of
 * a block, and the largest |mean(a − b)|.
 */
export function blockChanges(
  a: Uint8Array,
  b: Uint8Array,
  width: number,
  height: number,
  block: number,
): { maxBlockDiff: number; maxMeanShift: number } {
  const n = width * height;
  room(0, 0, 2 * n);
  bytes.set(a.subarray(0, n), scratchAt);
  bytes.set(b.subarray(0, n), scratchAt + n);
  const maxBlockDiff = k.blockChange(scratchAt, scratchAt + n, width, height, block);
  return { maxBlockDiff, maxMeanShift: k.secondF.value as number };
}

/**
 * Runs a per-block kernel over the chunk's blocks of `blockFrames` frames (the last may be
 * short), `bytesPerBlock` of output each, into the scratch; returns the number of blocks.
 */
function perBlock(
  chunk: AudioChunk,
  blockFrames: number,
  bytesPerBlock: number,
  kernel: (ptr: number, frames: number, channels: number, blockFrames: number, dst: number) => number,
): number {
  const frames = chunk.samples.length / chunk.channels;
  const blocks = Math.ceil(frames / blockFrames);
  const at = sound(chunk, blocks * bytesPerBlock);
  kernel(at, frames, chunk.channels, blockFrames, scratchAt);
  return blocks;
}

/** The largest |sample| over all channels of each block of `blockFrames` frames. */
export function blockPeaks(chunk: AudioChunk, blockFrames: number): Float32Array {
  const blocks = perBlock(chunk, blockFrames, 4, k.peaks);
  return floats.slice(scratchAt / 4, scratchAt / 4 + blocks);
}

/** Channels 0 and 1 (channels ≥ 2), per block: their largest |sample|, as [left, right, left, right …]. */
export function pairPeaks(chunk: AudioChunk, blockFrames: number): Float32Array {
  const blocks = perBlock(chunk, blockFrames, 8, k.pairPeaks);
  return floats.slice(scratchAt / 4, scratchAt / 4 + 2 * blocks);
}

/** Channels 0 and 1 (channels ≥ 2), per block: Σ l², Σ r², Σ l·r, as [ll, rr, lr, ll …]. */
export function pairSums(chunk: AudioChunk, blockFrames: number): Float64Array {
  const blocks = perBlock(chunk, blockFrames, 24, k.pairSums);
  return doubles.slice(scratchAt / 8, scratchAt / 8 + 3 * blocks);
}

/**
 * Frames [from, from + n): each one's power (Σ v² over channels / channels) into `into` from
 * `intoAt`; returns `sum` plus those powers, added in order.
 */
export function framePower(
  chunk: AudioChunk,
  from: number,
  n: number,
  into: Float32Array,
  intoAt: number,
  sum: number,
): number {
  const at = sound(chunk, n * 4);
  const total = k.framePower(at, from, n, chunk.channels, scratchAt, sum);
  into.set(floats.subarray(scratchAt / 4, scratchAt / 4 + n), intoAt);
  return total;
}

/**
 * Frames [from, to) of every channel through two biquads (the K-weighting of BS.1770): `coef` is
 * b0 b1 b2 a1 a2 of the first and a1 a2 of the second (whose b are 1, −2, 1); `state` holds x1 x2
 * y1 y2 z1 z2 per channel and is carried on; each channel's sum of squared output goes to `sums`.
 */
export function kWeight(
  samples: Float32Array,
  channels: number,
  from: number,
  to: number,
  coef: Float64Array,
  state: Float64Array,
  sums: Float64Array,
): void {
  // The scratch: coefficients, the state (and a channel's worth past it: a lone last channel's
  // second lane reads there), the sums, then the samples — unless they are the chunk in memory
  // already (the rules before audio.loudness placed it), which the kernel reads where it lies.
  const stateOffset = 64;
  const sumsOffset = stateOffset + (channels + 1) * 48;
  const samplesOffset = sumsOffset + Math.ceil((channels * 8) / 16) * 16;
  const inPlace = () => placedChunk?.samples === samples;
  room(0, 0, samplesOffset);
  // (A room that grew has moved the chunk out of memory: then the samples are copied after all.)
  if (!inPlace()) room(0, 0, samplesOffset + (to - from) * channels * 4);
  const coefAt = scratchAt;
  const stateAt = coefAt + stateOffset;
  const sumsAt = coefAt + sumsOffset;
  doubles.set(coef, coefAt / 8);
  doubles.set(state, stateAt / 8);
  let samplesAt = soundAt;
  let first = from;
  if (!inPlace()) {
    samplesAt = coefAt + samplesOffset;
    first = 0;
    floats.set(samples.subarray(from * channels, to * channels), samplesAt / 4);
  }
  for (let ch = 0; ch < channels; ch += 2) {
    const pair = ch + 1 < channels ? 1 : 0;
    k.kWeight(samplesAt, first, first + to - from, channels, ch, pair, coefAt, stateAt, sumsAt);
  }
  state.set(doubles.subarray(stateAt / 8, stateAt / 8 + channels * 6));
  sums.set(doubles.subarray(sumsAt / 8, sumsAt / 8 + channels));
}
