/**
 * The SCTE-35 checks (`scte35.*`): what the cues a source signals, and the breaks they make
 * (AdBreaks.ts), do wrong. Each check hands the stream's alarm tracker an observation every tick
 * (500 ms); the tracker raises at the first finding and clears after `thresholds.scte35.quietSeconds`
 * of media without one (worker/alarms/hysteresis.ts).
 *
 * - `scte35.preroll`: an out cue whose splice time is less than `minPreroll` seconds (4; SCTE 67's
 *   recommendation) ahead of the media when it arrived, or one that splices immediately.
 * - `scte35.overrun`: a break with a planned duration and no automatic return still without its
 *   return cue `breakTolerance` seconds past its planned end (active until the return or the next
 *   break).
 * - `scte35.orphan_return`: a return cue with no break open, once this monitor has seen a break
 *   end (a return right after joining may close a break that began before it).
 * - `scte35.malformed`: a cue that cannot be read: CRC-32 wrong, truncated, encrypted.
 * - `scte35.cues_stopped`: a channel that sent cues sends none for `cueTimeout` seconds, or (0:
 *   learned) for 3 × the usual interval of its heartbeats (splice_null, time_signal without a
 *   segmentation descriptor) and at least 10 s, once it has sent 3 of them.
 */
import { type CueCheckType, DEFECT_TYPES, type DefectType, isCueCheckType } from '../../shared/events.js';
import type { Thresholds } from '../../shared/thresholds.js';
import type { Detail, Emit } from '../detectors/types.js';

const CUE_CHECK_TYPES: readonly CueCheckType[] = DEFECT_TYPES.filter(isCueCheckType);

/** Heartbeat arrivals kept to learn a channel's cue interval. */
const HEARTBEATS_KEPT = 9;
/** The learned silence rule never fires sooner than this (seconds). */
const MIN_LEARNED_TIMEOUT = 10;

export class CueChecks {
  private readonly enabled: readonly CueCheckType[];
  /** Findings since the last tick (a short pre-roll, a return without a break, a malformed cue) and the media time of each. */
  private readonly found = new Map<CueCheckType, { at: number; detail: Detail }>();
  /** The open break that ran past its planned end without a return: what it was. */
  private overrun: Detail | null = null;
  private lastCueMs: number | null = null;
  private readonly heartbeats: number[] = [];
  /** A break has ended under this monitor: a return with no break open is then an orphan. */
  private sawBreakEnd = false;
  private lastTick: number | null = null;

  constructor(
    types: readonly DefectType[],
    private readonly thresholds: Thresholds['scte35'],
    private readonly observe: Emit,
    private readonly clock: { readonly mediaTime: number },
  ) {
    this.enabled = CUE_CHECK_TYPES.filter((t) => types.includes(t));
  }

  get active(): boolean {
    return this.enabled.length > 0;
  }

  /** Any cue arrived (wall ms); heartbeats teach the channel's usual interval. */
  cueArrived(atMs: number, heartbeat: boolean): void {
    this.lastCueMs = atMs;
    if (!heartbeat) return;
    this.heartbeats.push(atMs);
    if (this.heartbeats.length > HEARTBEATS_KEPT) this.heartbeats.shift();
  }

  /** An out cue arrived `seconds` ahead of its splice (0: immediate). */
  preroll(seconds: number, detail: Detail): void {
    if (seconds >= this.thresholds.minPreroll) return;
    this.find('scte35.preroll', {
      ...detail,
      prerollSeconds: Math.max(0, Math.round(seconds * 1000) / 1000),
      minPreroll: this.thresholds.minPreroll,
    });
  }

  /** The open break ran `breakTolerance` past its planned end without a return. */
  overran(detail: Detail): void {
    this.overrun = detail;
  }

  /** A break began or ended (with its return, or overrun): an overrun is over. */
  breakEnded(): void {
    this.sawBreakEnd = true;
    this.overrun = null;
  }

  breakStarted(): void {
    this.overrun = null;
  }

  /** A return cue arrived with no break open. */
  returnWithoutBreak(detail: Detail): void {
    // A late return of a break that overran: the overrun ends, it is not an orphan.
    if (this.overrun) {
      this.overrun = null;
      return;
    }
    if (this.sawBreakEnd) this.find('scte35.orphan_return', detail);
  }

  /** A cue that could not be read, and why. */
  malformed(reason: string): void {
    this.find('scte35.malformed', { reason });
  }

  /** Seconds without a cue after which the channel's cues count as stopped; null: no rule yet. */
  private silenceLimit(): number | null {
    if (this.thresholds.cueTimeout > 0) return this.lastCueMs === null ? null : this.thresholds.cueTimeout;
    if (this.heartbeats.length < 3) return null;
    const gaps = this.heartbeats.slice(1).map((t, i) => t - this.heartbeats[i]);
    gaps.sort((a, b) => a - b);
    const usual = gaps[Math.floor(gaps.length / 2)] / 1000;
    return Math.max(MIN_LEARNED_TIMEOUT, 3 * usual);
  }

  /** Hands the tracker this stretch of media's observation of every check that is on. */
  tick(nowMs: number): void {
    const now = this.clock.mediaTime;
    const from = this.lastTick ?? now;
    this.lastTick = now;
    const limit = this.silenceLimit();
    const silent =
      limit !== null && this.lastCueMs !== null && nowMs - this.lastCueMs > limit * 1000
        ? { secondsWithoutCue: Math.round((nowMs - this.lastCueMs) / 100) / 10, limitSeconds: limit }
        : null;
    const stretch = { t: from, duration: Math.max(0, now - from) };
    for (const type of this.enabled) {
      const found = this.found.get(type);
      // A finding about one cue is an instant of media; an overrun or a silence lasts.
      if (found) this.observe({ type, t: found.at, duration: 0, active: true, detail: found.detail });
      else {
        const lasting =
          type === 'scte35.overrun' ? this.overrun : type === 'scte35.cues_stopped' ? silent : null;
        this.observe({ type, ...stretch, active: lasting !== null, ...(lasting ? { detail: lasting } : {}) });
      }
    }
    this.found.clear();
  }

  private find(type: CueCheckType, detail: Detail): void {
    if (this.enabled.includes(type)) this.found.set(type, { at: this.clock.mediaTime, detail });
  }
}
