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
 *
 * Skipped pictures can hide what the offset needs: a one-picture flash on a picture nothing is
 * predicted from is never decoded, and a cut's range of offsets may straddle the window's edge.
 * The detector then asks for every picture (context.decodeEveryPicture), once: when a periodic
 * sync signal's beeps come without flashes among the decoded pictures, or when an offset it
 * reports, or one that may be outside the window, is known only to a range wider than 10 ms.
 */
import type { AudioChunk, VideoFrame } from '../converter/types.js';
import { framePower, sampleGrid } from './kernels/kernels.js';
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
/** Samples in a row above the onset level that start an onset. */
const ONSET_RUN = 3;
/** Pairs older than this (seconds of media) no longer count, nor more than the newest MAX_PAIRS. */
const PAIR_WINDOW = 20;
const MAX_PAIRS = 7;
/** Pairs within this of the median (seconds) agree with it. */
const AGREEMENT = 0.04;
/** Agreeing pairs needed, and the share of all recent pairs they must make up. */
const MIN_AGREEING = 3;
const MIN_AGREEING_SHARE = 0.6;
/** A sync signal: this many beeps at one period (±PERIOD_JITTER s) between 0.9 and 10 s (music beats come faster). */
const SIGNAL_BEEPS = 4;
const PERIOD_JITTER = 0.02;
/** Widest range of offsets (s) reported without asking for every picture. */
const PRECISE_RANGE = 0.01;

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
  /** Per-sample power (mean over channels) of this hop and the one before, to date an onset exactly. */
  private hopPower = new Float32Array(0);
  private previousHopPower = new Float32Array(0);
  private previousHopStart = 0;
  private sampleRate = 48000;
  /** Recent pairs: visual onset time and the offsets (audio minus video, s) it allows. */
  private pairs: OffsetPair[] = [];
  /** Pictures in between are not decoded (the reference profile). */
  private skipping = false;
  /** Every picture was asked for (once is enough). */
  private askedForEveryPicture = false;
  /** Recent audio onsets and visual onset spans, for the sync-signal check. */
  private readonly recentBeeps: number[] = [];
  private readonly recentFlashes: { earliest: number; t: number }[] = [];
  private checkedBeep = Number.NEGATIVE_INFINITY;

  constructor(private readonly context: DetectorContext) {}

  onVideo(frame: VideoFrame): void {
    const { width, height } = frame;
    const step = sampleStep(width) * 2;
    const size = Math.ceil(width / step) * Math.ceil(height / 2);
    const sampled = this.spare?.length === size ? this.spare : new Uint8Array(size);
    this.spare = this.previous;
    const prev = this.previous;
    // Every step-th pixel of every other row, and their change from the previous picture's.
    const diff = sampleGrid(frame, 0, step, 2, sampled, prev);
    const changed = prev !== null && prev.length === sampled.length && diff / size >= VISUAL_JUMP;
    this.previous = sampled;
    // Pictures between the previous decoded one and this were skipped: the change is at one of them.
    const skipped = frame.t - this.previousT > 1.5 * frame.interval;
    const earliest = skipped ? this.previousT + frame.interval : frame.t;
    if (skipped && Number.isFinite(this.previousT)) this.skipping = true;
    this.previousT = frame.t;
    if (changed && frame.t - this.lastVideoOnset >= MIN_ONSET_GAP) {
      this.videoOnsets.push({ earliest, t: frame.t });
      this.recentFlashes.push({ earliest, t: frame.t });
      if (this.recentFlashes.length > 16) this.recentFlashes.shift();
    }
    // Without audio nothing pairs; keep the backlog bounded.
    if (this.videoOnsets.length > 64) this.videoOnsets.shift();
    if (changed) this.lastVideoOnset = frame.t;
    this.pair();
  }

  onAudio(chunk: AudioChunk): void {
    const { samples, channels, sampleRate } = chunk;
    if (!this.hopFrames) {
      this.hopFrames = Math.round(sampleRate * HOP_SECONDS);
      this.hopPower = new Float32Array(this.hopFrames);
      this.previousHopPower = new Float32Array(this.hopFrames);
      this.sampleRate = sampleRate;
    }
    const frames = samples.length / channels;
    // Hop by hop: each frame's power into the hop, and the hop's running sum.
    for (let f = 0; f < frames; ) {
      if (this.hopFilled === 0) this.hopStart = chunk.t + f / sampleRate;
      const run = Math.min(frames - f, this.hopFrames - this.hopFilled);
      this.hopSum = framePower(chunk, f, run, this.hopPower, this.hopFilled, this.hopSum);
      this.hopFilled += run;
      f += run;
      if (this.hopFilled === this.hopFrames) this.closeHop();
    }
    this.audioTime = chunk.t + frames / sampleRate;
    this.pair();
  }

  private closeHop(): void {
    const energy = this.hopSum / this.hopFrames;
    this.hopSum = 0;
    this.hopFilled = 0;
    // Two hundred hops a second: a plain loop (the same sum, in the same order, as a reduce).
    const history = this.history;
    let sum = 0;
    for (let i = 0; i < history.length; i++) sum += history[i];
    const baseline = history.length ? sum / history.length : 0;
    this.history.push(energy);
    if (this.history.length > 20) this.history.shift();
    const db = 10 * Math.log10(energy + 1e-12);
    const rise = db - 10 * Math.log10(baseline + 1e-12);
    if (db > AUDIO_FLOOR_DBFS && rise >= AUDIO_RISE_DB) {
      if (this.hopStart - this.lastAudioOnset >= MIN_ONSET_GAP) {
        const at = this.onsetSample(energy);
        this.audioOnsets.push(at);
        this.recentBeeps.push(at);
        if (this.recentBeeps.length > SIGNAL_BEEPS) this.recentBeeps.shift();
      }
      this.lastAudioOnset = this.hopStart;
    }
    [this.hopPower, this.previousHopPower] = [this.previousHopPower, this.hopPower];
    this.previousHopStart = this.hopStart;
  }

  /**
   * The sample an onset starts at, within the hop that rose or the one before (a sound starting
   * late in a hop lifts the next one): the first of ONSET_RUN samples in a row whose power is at
   * least half the rising hop's mean (a sine's amplitude reaches that a twelfth of a period in;
   * the background's peaks do not, the hop being ≥ 15 dB above it). The hop's start otherwise.
   */
  private onsetSample(energy: number): number {
    const threshold = energy / 2;
    let run = 0;
    const hops = [
      { power: this.previousHopPower, start: this.previousHopStart },
      { power: this.hopPower, start: this.hopStart },
    ];
    for (const { power, start } of hops) {
      for (let i = 0; i < this.hopFrames; i++) {
        run = power[i] >= threshold ? run + 1 : 0;
        if (run === ONSET_RUN) return start + (i - ONSET_RUN + 1) / this.sampleRate;
      }
    }
    return this.hopStart;
  }

  /** Asks once for every picture, when pictures are being skipped. */
  private askForEveryPicture(reason: string): void {
    if (!this.skipping || this.askedForEveryPicture || !this.context.decodeEveryPicture) return;
    this.askedForEveryPicture = true;
    this.context.decodeEveryPicture(reason);
  }

  /**
   * A sync test signal (a beep and a flash at one period) whose flashes the decoded pictures
   * miss: judged once the newest beep's ±MAX_OFFSET of pictures has been decoded.
   */
  private checkSignal(): void {
    const beeps = this.recentBeeps;
    const newest = beeps[beeps.length - 1];
    if (beeps.length < SIGNAL_BEEPS || newest === this.checkedBeep || newest + MAX_OFFSET > this.previousT)
      return;
    this.checkedBeep = newest;
    const gaps = beeps.slice(1).map((b, i) => b - beeps[i]);
    const period = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    if (period < 0.9 || period > 10 || gaps.some((g) => Math.abs(g - period) > PERIOD_JITTER)) return;
    const seen = beeps.filter((b) => this.recentFlashes.some((f) => distance(f, b) <= MAX_OFFSET)).length;
    if (seen < beeps.length - 1)
      this.askForEveryPicture(
        `a sync signal (a beep every ${period.toFixed(2)} s): ${beeps.length - seen} of its last ${beeps.length} flashes fell on pictures not decoded`,
      );
  }

  /** Pairs every visual onset whose ±MAX_OFFSET audio window has been fully decoded. */
  private pair(): void {
    this.checkSignal();
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
      const outside = loMs > rule.audioLateMs || hiMs < -rule.audioEarlyMs;
      const mayBeOutside = hiMs > rule.audioLateMs || loMs < -rule.audioEarlyMs;
      if (mayBeOutside && estimate.hi - estimate.lo > PRECISE_RANGE)
        this.askForEveryPicture(
          `the offset is known only to ${loMs}…${hiMs} ms: the pictures in between are not decoded`,
        );
      this.context.emit({
        type: this.type,
        t: since,
        duration: tv - since,
        active: outside,
        // The range the pairs allow (one value when every picture was decoded).
        detail: { offsetMs, offsetMinMs: Math.min(loMs, offsetMs), offsetMaxMs: Math.max(hiMs, offsetMs) },
      });
    }
  }
}

/** Seconds between an audio onset and the span of media times a visual onset may lie at. */
function distance(onset: { earliest: number; t: number }, ta: number): number {
  if (ta < onset.earliest) return onset.earliest - ta;
  return Math.max(0, ta - onset.t);
}
