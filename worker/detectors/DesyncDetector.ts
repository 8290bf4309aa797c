/**
 * av.desync: the audio/video offset, measured from the content, outside the ITU-R BT.1359
 * detectability window (audio early > 45 ms or late > 125 ms) for ≥ 5 s.
 *
 * The content gives the offset away at onsets: a flash or a cut in the picture and a beep, a
 * clap or a hit in the sound mark the same instant. Each visual onset is paired with the nearest
 * audio onset within ±MAX_OFFSET; the pair's difference is one measurement of the offset. Many
 * cuts have no sound of their own, so a single pair proves nothing: the offset is the one most
 * recent pairs agree on, and it counts only when most of them do (syncOffset.ts). When pictures
 * were skipped before the one showing the change, the pair allows a range of offsets; the alarm
 * rises only when every offset the agreeing pairs allow is outside the window.
 */
import type { AudioChunk, VideoFrame } from '../converter/types.js';
import { sampleStep } from './lumaStats.js';
import { estimateOffset, type OffsetPair } from './syncOffset.js';
import type { Detector, DetectorContext } from './types.js';

/** Largest offset we try to measure, seconds. */
const MAX_OFFSET = 0.5;
/** Onsets closer than this to the previous one are the same event. */
const MIN_ONSET_GAP = 0.3;
/** Picture change (mean absolute difference, code values) that makes a visual onset. */
const VISUAL_JUMP = 25;
/** Rise in short-time energy over the preceding 100 ms that makes an audio onset, dB. */
const AUDIO_RISE_DB = 15;
const AUDIO_FLOOR_DBFS = -45;
const HOP_SECONDS = 0.005;
/** Pairs older than this (seconds of media) no longer count, nor more than the newest MAX_PAIRS. */
const PAIR_WINDOW = 20;
const MAX_PAIRS = 7;
/** Pairs within this of the median (seconds) agree with it. */
const AGREEMENT = 0.04;
/** Agreeing pairs needed, and the share of all recent pairs they must make up. */
const MIN_AGREEING = 3;
const MIN_AGREEING_SHARE = 0.6;

export class DesyncDetector implements Detector {
  readonly type = 'av.desync' as const;
  private previous: Uint8Array | null = null;
  private spare: Uint8Array | null = null;
  /** Visual onsets: the earliest and latest media time the change can have happened at. */
  private videoOnsets: { earliest: number; t: number }[] = [];
  private previousT = Number.NEGATIVE_INFINITY;
  private audioOnsets: number[] = [];
  private lastVideoOnset = Number.NEGATIVE_INFINITY;
  private lastAudioOnset = Number.NEGATIVE_INFINITY;
  private audioTime = 0;
  /** Recent hop energies (linear mean square) for the onset baseline. */
  private readonly history: number[] = [];
  private hopFrames = 0;
  private hopSum = 0;
  private hopFilled = 0;
  private hopStart = 0;
  /** Recent pairs: visual onset time and the offsets (audio minus video, s) it allows. */
  private pairs: OffsetPair[] = [];

  constructor(private readonly context: DetectorContext) {}

  onVideo(frame: VideoFrame): void {
    const { luma, width, height } = frame;
    const step = sampleStep(width) * 2;
    const size = Math.ceil(width / step) * Math.ceil(height / 2);
    const sampled = this.spare?.length === size ? this.spare : new Uint8Array(size);
    this.spare = this.previous;
    let i = 0;
    let diff = 0;
    const prev = this.previous;
    for (let y = 0; y < height; y += 2) {
      const row = y * width;
      for (let x = 0; x < width; x += step) {
        const v = luma[row + x];
        if (prev && i < prev.length) diff += Math.abs(v - prev[i]);
        sampled[i++] = v;
      }
    }
    const changed = prev !== null && prev.length === sampled.length && diff / i >= VISUAL_JUMP;
    this.previous = sampled;
    // Pictures between the previous decoded one and this were skipped: the change is at one of them.
    const skipped = frame.t - this.previousT > 1.5 * frame.interval;
    const earliest = skipped ? this.previousT + frame.interval : frame.t;
    this.previousT = frame.t;
    if (changed && frame.t - this.lastVideoOnset >= MIN_ONSET_GAP)
      this.videoOnsets.push({ earliest, t: frame.t });
    // Without audio nothing pairs; keep the backlog bounded.
    if (this.videoOnsets.length > 64) this.videoOnsets.shift();
    if (changed) this.lastVideoOnset = frame.t;
    this.pair();
  }

  onAudio(chunk: AudioChunk): void {
    const { samples, channels, sampleRate } = chunk;
    if (!this.hopFrames) this.hopFrames = Math.round(sampleRate * HOP_SECONDS);
    const frames = samples.length / channels;
    for (let f = 0; f < frames; f++) {
      if (this.hopFilled === 0) this.hopStart = chunk.t + f / sampleRate;
      let s = 0;
      for (let ch = 0; ch < channels; ch++) {
        const v = samples[f * channels + ch];
        s += v * v;
      }
      this.hopSum += s / channels;
      if (++this.hopFilled === this.hopFrames) this.closeHop();
    }
    this.audioTime = chunk.t + frames / sampleRate;
    this.pair();
  }

  private closeHop(): void {
    const energy = this.hopSum / this.hopFrames;
    this.hopSum = 0;
    this.hopFilled = 0;
    const baseline = this.history.length ? this.history.reduce((a, b) => a + b, 0) / this.history.length : 0;
    this.history.push(energy);
    if (this.history.length > 20) this.history.shift();
    const db = 10 * Math.log10(energy + 1e-12);
    const rise = db - 10 * Math.log10(baseline + 1e-12);
    if (db > AUDIO_FLOOR_DBFS && rise >= AUDIO_RISE_DB) {
      if (this.hopStart - this.lastAudioOnset >= MIN_ONSET_GAP) this.audioOnsets.push(this.hopStart);
      this.lastAudioOnset = this.hopStart;
    }
  }

  /** Pairs every visual onset whose ±MAX_OFFSET audio window has been fully decoded. */
  private pair(): void {
    const rule = this.context.thresholds.desync;
    while (this.videoOnsets.length && this.videoOnsets[0].t + MAX_OFFSET <= this.audioTime) {
      const onset = this.videoOnsets.shift()!;
      const tv = onset.t;
      this.audioOnsets = this.audioOnsets.filter((ta) => ta >= onset.earliest - 2 * MAX_OFFSET);
      let best: number | null = null;
      for (const ta of this.audioOnsets) {
        if (
          distance(onset, ta) <= MAX_OFFSET &&
          (best === null || distance(onset, ta) < distance(onset, best))
        )
          best = ta;
      }
      if (best === null) continue;
      this.pairs.push({ t: tv, lo: best - tv, hi: best - onset.earliest });
      this.pairs = this.pairs.filter((p) => p.t > tv - PAIR_WINDOW).slice(-MAX_PAIRS);
      const estimate = estimateOffset(this.pairs, AGREEMENT);
      if (!estimate) continue;
      const { agreeing } = estimate;
      if (agreeing.length < MIN_AGREEING || agreeing.length < this.pairs.length * MIN_AGREEING_SHARE)
        continue;
      const offsetMs = Math.round(estimate.offset * 1000);
      const loMs = Math.round(estimate.lo * 1000);
      const hiMs = Math.round(estimate.hi * 1000);
      // Dated from the first pair that agrees: the offset held since then.
      const since = agreeing[0].t;
      this.context.emit({
        type: this.type,
        t: since,
        duration: tv - since,
        active: loMs > rule.audioLateMs || hiMs < -rule.audioEarlyMs,
        detail: hiMs > loMs ? { offsetMs, offsetMinMs: loMs, offsetMaxMs: hiMs } : { offsetMs },
      });
    }
  }
}

/** Seconds between an audio onset and the span of media times a visual onset may lie at. */
function distance(onset: { earliest: number; t: number }, ta: number): number {
  if (ta < onset.earliest) return onset.earliest - ta;
  return Math.max(0, ta - onset.t);
}
