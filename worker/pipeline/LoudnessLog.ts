/**
 * A stream's loudness log, kept when the owner asks for one (`loudness` at registration): every
 * second of wall-clock time its highest momentary loudness (400 ms), its short-term loudness
 * (3 s) at the second's end and its true peak; every period (`periodMinutes`, aligned to the
 * clock: 60 gives 10:00–11:00, 11:00–12:00 …) the integrated loudness (BS.1770-4 gating),
 * loudness range (EBU Tech 3342), true peak and a verdict against the stream's standard.
 *
 * Written to the media store as it fills (every 20 s, and at its end):
 * `streams/{id}/loudness/{YYYY-MM-DD}/{HH-MM}.json` holds that minute's seconds and the period as
 * measured so far (the API reads a period's figures from its last minute). A unit that moves to another worker mid-period starts measuring the
 * period afresh: `measuredFrom` says from when, and `complete` is false.
 */

import type { Logger } from '../../shared/logger.js';
import {
  LOUDNESS_STANDARDS,
  type LoudnessStandard,
  loudnessVerdict,
} from '../../shared/loudnessStandards.js';
import {
  type LoudnessMinute,
  type LoudnessPeriod,
  type LoudnessPoint,
  loudnessMinuteKey,
} from '../../shared/media/loudnessLog.js';
import type { MediaStore } from '../../shared/media/MediaStore.js';
import type { AudioChunk } from '../converter/types.js';
import { LoudnessMeter } from '../detectors/loudnessMeter.js';
import { TruePeak } from '../detectors/truePeak.js';

export interface LoudnessLogOptions {
  streamId: string;
  standard: LoudnessStandard;
  periodMinutes: number;
  store: MediaStore;
  logger: Logger;
}

/** The current minute is written again this often while it fills (ms of wall clock). */
const REWRITE_MS = 20_000;

const round1 = (x: number) => (Number.isFinite(x) ? Math.round(x * 10) / 10 : null);

export class LoudnessLog {
  private readonly periodMs: number;
  private meter: LoudnessMeter | null = null;
  private peaks: TruePeak | null = null;
  private periodStart = Number.NaN;
  private measuredFrom = 0;
  private seconds = 0;
  private periodPeak = 0;
  private minuteStart = Number.NaN;
  private points: LoudnessPoint[] = [];
  /** The second being gathered. */
  private second = Number.NaN;
  private secondMomentary = Number.NEGATIVE_INFINITY;
  private secondPeak = 0;
  private lastMs = 0;
  private writes: Promise<void> = Promise.resolve();
  private lastWriteMs = 0;
  /** Points of the current minute already written. */
  private pointsWritten = 0;

  constructor(private readonly options: LoudnessLogOptions) {
    this.periodMs = options.periodMinutes * 60_000;
  }

  /** A chunk of decoded sound, dated by when it arrived (`wallMs`). */
  sound(chunk: AudioChunk): void {
    const ms = chunk.wallMs;
    const second = Math.floor(ms / 1000) * 1000;
    if (second !== this.second) this.closeSecond(second);
    if (!this.meter || this.meter.sampleRate !== chunk.sampleRate || this.meter.channels !== chunk.channels) {
      // The period's gating carries on only for the same format; a new one measures afresh.
      this.meter = new LoudnessMeter(chunk.sampleRate, chunk.channels, false);
      this.peaks = new TruePeak(chunk.channels);
    }
    this.meter.push(chunk.samples);
    this.seconds += chunk.samples.length / chunk.channels / chunk.sampleRate;
    this.secondMomentary = Math.max(this.secondMomentary, this.meter.momentary);
    // Only what can beat the second's peak so far needs the interpolation filter.
    const peak = this.peaks?.peak(chunk.samples, this.secondPeak) ?? 0;
    this.secondPeak = Math.max(this.secondPeak, peak);
    this.periodPeak = Math.max(this.periodPeak, peak);
    this.lastMs = ms;
  }

  /**
   * Wall-clock tick: the minute so far is written every REWRITE_MS (the API shows the last
   * seconds, not the last whole minute); when sound has stopped (an outage) and its minute is
   * over, the minute is finished now rather than when sound comes back.
   */
  tick(nowMs: number): void {
    if (Number.isNaN(this.second)) return;
    if (nowMs - this.lastMs >= 2000 && Math.floor(nowMs / 60_000) * 60_000 > this.minuteStart) {
      this.closeSecond(Number.NaN);
      return;
    }
    if (nowMs - this.lastWriteMs >= REWRITE_MS && this.points.length > this.pointsWritten) this.writeMinute();
  }

  /** Resolves when every write begun so far has been tried. */
  written(): Promise<void> {
    return this.writes;
  }

  /** Writes what is gathered (the minute so far); resolves when every write has been tried. */
  async flush(): Promise<void> {
    if (!Number.isNaN(this.second)) this.closeSecond(Number.NaN);
    await this.writes;
  }

  /** Ends the gathered second and starts `next` (NaN: none yet), writing minutes and periods as they end. */
  private closeSecond(next: number): void {
    if (!Number.isNaN(this.second)) {
      this.points.push({
        at: new Date(this.second).toISOString(),
        momentaryLufs: round1(this.secondMomentary),
        shortTermLufs: round1(this.meter?.shortTerm ?? Number.NEGATIVE_INFINITY),
        truePeakDbtp: round1(20 * Math.log10(this.secondPeak)),
      });
    }
    const nextMinute = Number.isNaN(next) ? Number.NaN : Math.floor(next / 60_000) * 60_000;
    if (!Number.isNaN(this.minuteStart) && nextMinute !== this.minuteStart) this.writeMinute();
    const nextPeriod = Number.isNaN(next) ? Number.NaN : Math.floor(next / this.periodMs) * this.periodMs;
    if (!Number.isNaN(next) && nextPeriod !== this.periodStart) {
      if (!Number.isNaN(this.periodStart)) this.meter = null;
      this.periodStart = nextPeriod;
      this.measuredFrom = next;
      this.seconds = 0;
      this.periodPeak = 0;
    }
    if (!Number.isNaN(next) && nextMinute !== this.minuteStart) {
      this.minuteStart = nextMinute;
      this.points = [];
      this.pointsWritten = 0;
      this.lastWriteMs = next;
    }
    this.second = next;
    this.secondMomentary = Number.NEGATIVE_INFINITY;
    this.secondPeak = 0;
  }

  /** The period's figures so far. */
  private period(): LoudnessPeriod {
    const integrated = this.meter?.integrated ?? Number.NEGATIVE_INFINITY;
    const truePeak = this.periodPeak > 0 ? 20 * Math.log10(this.periodPeak) : Number.NEGATIVE_INFINITY;
    const periodEnd = this.periodStart + this.periodMs;
    const measuredTo = Math.min(periodEnd, this.lastMs);
    return {
      from: new Date(this.periodStart).toISOString(),
      to: new Date(periodEnd).toISOString(),
      measuredFrom: new Date(this.measuredFrom).toISOString(),
      measuredTo: new Date(measuredTo).toISOString(),
      seconds: Math.round(this.seconds),
      standard: LOUDNESS_STANDARDS[this.options.standard].name,
      integratedLufs: round1(integrated),
      rangeLu: round1(this.meter?.range ?? 0) ?? 0,
      truePeakDbtp: round1(truePeak),
      ...loudnessVerdict(this.options.standard, integrated, truePeak),
      // Measured from the period's first second to its last (allowing the second of start-up).
      complete: this.measuredFrom - this.periodStart < 2000 && periodEnd - this.lastMs < 2000,
    };
  }

  private writeMinute(): void {
    const { streamId, store, logger } = this.options;
    this.lastWriteMs = this.lastMs;
    this.pointsWritten = this.points.length;
    const minute: LoudnessMinute = {
      streamId,
      minute: new Date(this.minuteStart).toISOString(),
      points: this.points,
      period: this.period(),
    };
    const key = loudnessMinuteKey(streamId, this.minuteStart);
    const body = Buffer.from(JSON.stringify(minute));
    this.writes = this.writes.then(() =>
      store
        .put(key, body, 'application/json')
        .catch((e) => logger.warn({ err: (e as Error).message, key }, 'could not store the loudness log')),
    );
  }
}

/**
 * Whether the unit of `group` keeps its stream's loudness log: the stream asked for one, and this
 * is the unit that runs audio.loudness (else the first that runs an audio rule, else the first).
 */
export function keepsLoudnessLog(
  stream: { loudness?: unknown; units: { group: string; detectors: readonly string[] }[] },
  group: string,
): boolean {
  if (!stream.loudness) return false;
  const keeper =
    stream.units.find((u) => u.detectors.includes('audio.loudness')) ??
    stream.units.find((u) => u.detectors.some((d) => d.startsWith('audio.'))) ??
    stream.units[0];
  return keeper?.group === group;
}
