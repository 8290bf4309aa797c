/**
 * audio.loudness: short-term loudness (3 s window, updated every 100 ms, K-weighted per
 * ITU-R BS.1770) outside target ± tolerance (default −23 LUFS ± 5 LU) for ≥ 10 s. Windows under
 * the absolute gate of −70 LUFS are silence, which is audio.silence's business, not loudness.
 */
import type { AudioChunk } from '../converter/types.js';
import { KWeightedMeter, lufsFromMeanSquare } from './kWeighting.js';
import type { Detector, DetectorContext } from './types.js';

const BLOCK_SECONDS = 0.1;
const WINDOW_BLOCKS = 30;
const ABSOLUTE_GATE_LUFS = -70;
const MOMENTARY_BLOCKS = 4;

export class LoudnessDetector implements Detector {
  readonly type = 'audio.loudness' as const;
  private meter: KWeightedMeter | null = null;
  private blockFrames = 0;
  private filled = 0;
  private blockSum = 0;
  private blockStart = 0;
  private readonly window = new Float64Array(WINDOW_BLOCKS);
  private readonly starts = new Float64Array(WINDOW_BLOCKS);
  private blocks = 0;
  private wasActive = false;

  constructor(private readonly context: DetectorContext) {}

  onAudio(chunk: AudioChunk): void {
    const { sampleRate, channels, samples } = chunk;
    if (!this.meter || this.meter.sampleRate !== sampleRate || this.meter.channels !== channels) {
      this.meter = new KWeightedMeter(sampleRate, channels);
      this.blockFrames = Math.round(sampleRate * BLOCK_SECONDS);
      this.filled = 0;
      this.blockSum = 0;
      this.blocks = 0;
    }
    const frames = samples.length / channels;
    let at = 0;
    while (at < frames) {
      if (this.filled === 0) this.blockStart = chunk.t + at / sampleRate;
      const take = Math.min(frames - at, this.blockFrames - this.filled);
      this.blockSum += this.meter.sumSquares(samples, at, at + take);
      this.filled += take;
      at += take;
      if (this.filled === this.blockFrames) this.closeBlock();
    }
  }

  private closeBlock(): void {
    const slot = this.blocks % WINDOW_BLOCKS;
    this.window[slot] = this.blockSum / this.blockFrames;
    this.starts[slot] = this.blockStart;
    this.blocks++;
    this.filled = 0;
    this.blockSum = 0;
    if (this.blocks < WINDOW_BLOCKS) return;
    const lufs = this.meanLufs(WINDOW_BLOCKS, 0);
    const rule = this.context.thresholds.loudness;
    const gated = lufs < ABSOLUTE_GATE_LUFS;
    const active = !gated && Math.abs(lufs - rule.targetLufs) > rule.toleranceLu;
    // The 3 s window lags a change by up to 3 s; when the verdict flips, date the change back to
    // where the 400 ms momentary loudness first agreed with it.
    let t = this.blockStart;
    if (active !== this.wasActive) t = this.changeStart(active, lufs > rule.targetLufs);
    this.wasActive = active;
    this.context.emit({
      type: this.type,
      t,
      duration: this.blockStart + BLOCK_SECONDS - t,
      active,
      detail: { lufs: gated ? -70 : Math.round(lufs * 10) / 10, targetLufs: rule.targetLufs },
    });
  }

  /** Loudness of `count` blocks ending `back` blocks before the newest. */
  private meanLufs(count: number, back: number): number {
    let sum = 0;
    for (let i = 0; i < count; i++)
      sum += this.window[(this.blocks - 1 - back - i + WINDOW_BLOCKS * 4) % WINDOW_BLOCKS];
    return lufsFromMeanSquare(sum / count);
  }

  /**
   * Start time of the change: the earliest of the newest momentary (400 ms) windows that agree
   * with the new verdict, then within that window the first 100 ms block that agrees by itself
   * (a loud block lifts the mean of a window it only ends, so the window alone dates a rise early).
   */
  private changeStart(active: boolean, loud: boolean): number {
    const rule = this.context.thresholds.loudness;
    const agrees = (lufs: number) =>
      (loud ? lufs > rule.targetLufs + rule.toleranceLu : lufs < rule.targetLufs - rule.toleranceLu) ===
      active;
    let earliestBack = -1;
    for (let back = 0; back <= WINDOW_BLOCKS - MOMENTARY_BLOCKS; back++) {
      if (!agrees(this.meanLufs(MOMENTARY_BLOCKS, back))) break;
      earliestBack = back;
    }
    if (earliestBack < 0) return this.blockStart;
    const slot = (back: number) => (this.blocks - 1 - back + WINDOW_BLOCKS * 4) % WINDOW_BLOCKS;
    for (let back = earliestBack + MOMENTARY_BLOCKS - 1; back > earliestBack; back--) {
      if (agrees(lufsFromMeanSquare(this.window[slot(back)]))) return this.starts[slot(back)];
    }
    return this.starts[slot(earliestBack)];
  }

  /** Short-term loudness of the last full window, for tests and metrics; null before 3 s. */
  get shortTermLufs(): number | null {
    return this.blocks < WINDOW_BLOCKS ? null : this.meanLufs(WINDOW_BLOCKS, 0);
  }
}
