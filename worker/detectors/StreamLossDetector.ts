/**
 * stream.loss: no decodable media arriving for ≥ 3 s (live), or the source cannot be opened.
 * Live inputs are judged on the wall clock (ticks while nothing arrives); files on media time (a
 * gap in the timestamps of every track).
 *
 * One outage is one incident: it lasts from the last media received until new media arrives,
 * whatever the supervisor restarts in between. A restart of the monitor's own converter is not a
 * loss of the source: while the converter re-opens after ending for a reason of its own (killed,
 * crashed, restarted at the live edge), and while a stream opens for the first time, the rule
 * waits up to RESTART_GRACE before it judges.
 *
 * Segmented sources (HLS, DASH) deliver a segment at a time: the wait for the next segment is not
 * loss. The rule allows, on top of its duration, the media the last burst brought (one segment
 * once the monitor is at the live edge; the first burst, a few segments, is generous).
 */

import type { AudioChunk, VideoFrame } from '../converter/types.js';
import { lossCause } from './lossCause.js';
import type { Detector, DetectorContext } from './types.js';

/** Seconds a (re-)opening converter is given before silence counts as loss of the source. */
export const RESTART_GRACE = 10;
/** A pause between arrivals at least this long (seconds) starts a new burst. */
const BURST_PAUSE = 0.5;
/**
 * Files: media seconds past a gap after which it is judged even if a track has not come back (the
 * two pipes are never that far apart; a track that ended before the gap is not coming).
 */
const FILE_GAP_SETTLE = 2;
/** The largest allowance for the wait between segments, seconds. */
export const MAX_SEGMENT_ALLOWANCE = 12;

export class StreamLossDetector implements Detector {
  readonly type = 'stream.loss' as const;
  /** Media time where the newest decoded media ends. */
  private mediaEnd: number | null = null;
  private lastArrivalMs: number;
  /** Wall time (ms) when the loss was raised; media that arrived before it does not end it. */
  private lossSinceMs: number | null = null;
  private graceUntilMs: number;
  private reason: string | undefined;
  /** What an open in progress waits on (no media yet): the reason until a failure gives one. */
  private pending: string | undefined;
  /** Media time where the current burst of arrivals began, and the length of the last whole burst. */
  private burstStart: number | null = null;
  private lastBurst = 0;
  /** The stream's media time at the last tick: where a loss begins before any media arrived here. */
  private clockTime = 0;
  /** Files: the tracks that have delivered media. */
  private readonly tracksSeen = new Set<'video' | 'audio'>();
  /**
   * Files: a gap in the media, judged once every track that delivered media has delivered media
   * after it. The two pipes deliver in their own rhythm: the last sound before a gap may come
   * after the first picture behind it, and a gap judged at that picture would start where the
   * pictures stopped one run and where the sound did the next.
   */
  private fileGap: { from: number; to: number; past: Set<'video' | 'audio'> } | null = null;

  constructor(private readonly context: DetectorContext) {
    const now = Date.now();
    this.lastArrivalMs = now;
    this.graceUntilMs = now + RESTART_GRACE * 1000;
  }

  onVideo(frame: VideoFrame): void {
    this.arrived('video', frame.t, frame.t + frame.duration, frame.wallMs);
  }

  onAudio(chunk: AudioChunk): void {
    const end = chunk.t + chunk.samples.length / chunk.channels / chunk.sampleRate;
    this.arrived('audio', chunk.t, end, chunk.wallMs);
  }

  /** The input ended: a file's gap still waiting on a track that never came back is judged now. */
  onEnd(): void {
    this.judgeFileGap();
  }

  /** Seconds without media the rule tolerates now (its duration, plus the segment wait). */
  get allowance(): number {
    // The burst just delivered counts too: while waiting for the next segment it is the latest one.
    const current = this.burstStart === null || this.mediaEnd === null ? 0 : this.mediaEnd - this.burstStart;
    const segment = this.context.segmented
      ? Math.min(MAX_SEGMENT_ALLOWANCE, Math.max(this.lastBurst, current))
      : 0;
    return this.context.thresholds.loss.minDuration + segment;
  }

  /** True when media is overdue under the rule (for the unit's health), whether or not raised. */
  overdue(nowMs: number): boolean {
    return (nowMs - this.lastArrivalMs) / 1000 >= this.allowance;
  }

  onTick(nowMs: number, mediaTime: number): void {
    if (!this.context.live) return;
    this.clockTime = mediaTime;
    const silentFor = (nowMs - this.lastArrivalMs) / 1000;
    if (silentFor < this.allowance) return;
    if (this.lossSinceMs === null && nowMs < this.graceUntilMs) return;
    this.report(nowMs, silentFor);
  }

  /** The monitor's own converter ended and is being restarted (not a sign the source is gone). */
  converterRestarting(nowMs: number): void {
    if (this.lossSinceMs === null) this.graceUntilMs = nowMs + RESTART_GRACE * 1000;
  }

  /**
   * A loss raised by an earlier monitor of this stream is still open (restored after a takeover):
   * the outage goes on until media arrives here, and that first media ends it. Without this a
   * source back before the opening grace ran out left the restored alarm open for ever.
   */
  lossOngoing(nowMs: number): void {
    this.lossSinceMs ??= nowMs;
    this.graceUntilMs = 0;
  }

  /** The source could not be opened or died: media time stands still while the wall clock runs. */
  /** An open is waiting on `what` (the playlist, the probe, the first media): said by a loss raised meanwhile. */
  waitingFor(what: string): void {
    this.pending = what;
  }

  /** The source ended by itself (a live playlist closed with EXT-X-ENDLIST): said by the loss. */
  sourceEnded(): void {
    this.reason ??= 'the source ended: the playlist was closed (EXT-X-ENDLIST)';
  }

  sourceFailed(reason: string, nowMs: number): void {
    this.reason = reason;
    this.graceUntilMs = 0;
    this.report(nowMs, (nowMs - this.lastArrivalMs) / 1000);
  }

  private report(nowMs: number, silentFor: number): void {
    this.lossSinceMs ??= nowMs;
    this.context.emit({
      type: this.type,
      // Nothing arrived here yet: the stream's clock (0, or where an earlier worker left it).
      t: this.mediaEnd ?? this.clockTime,
      duration: silentFor,
      active: true,
      detail: {
        maxSecondsWithoutMedia: Math.round(silentFor * 10) / 10,
        ...(this.reason || this.pending ? { reason: this.reason ?? `no answer yet: ${this.pending}` } : {}),
        ...lossCause(this.reason, this.pending !== undefined),
      },
    });
  }

  private arrived(track: 'video' | 'audio', t: number, end: number, wallMs: number): void {
    this.pending = undefined;
    // Media without a loss in progress: a reason noted for one that did not come (an end) is stale.
    if (this.lossSinceMs === null) this.reason = undefined;
    if ((wallMs - this.lastArrivalMs) / 1000 >= BURST_PAUSE || this.burstStart === null) {
      if (this.burstStart !== null && this.mediaEnd !== null)
        this.lastBurst = this.mediaEnd - this.burstStart;
      this.burstStart = t;
    }
    this.lastArrivalMs = Math.max(this.lastArrivalMs, wallMs);
    this.graceUntilMs = 0;
    const gap = this.mediaEnd === null ? 0 : t - this.mediaEnd;
    if (!this.context.live) {
      this.tracksSeen.add(track);
      this.fileMedia(track, t, end, gap);
    } else if (this.lossSinceMs !== null && wallMs >= this.lossSinceMs) {
      this.context.emit({ type: this.type, t: Math.max(t, this.mediaEnd ?? t), duration: 0, active: false });
      this.lossSinceMs = null;
      this.reason = undefined;
    }
    this.mediaEnd = Math.max(this.mediaEnd ?? end, end);
  }

  /**
   * A file's media: a gap of the loss rule's length opens a candidate; media of any track then
   * narrows it from the side it lies on (sound before the gap that came late, a track back earlier
   * than the one that opened it). It is judged once every track has come back, or once the media
   * is FILE_GAP_SETTLE past it (a track that ended before the gap never comes back).
   */
  private fileMedia(track: 'video' | 'audio', t: number, end: number, gap: number): void {
    const minimum = this.context.thresholds.loss.minDuration;
    const candidate = this.fileGap;
    if (candidate) {
      if (t < (candidate.from + candidate.to) / 2) candidate.from = Math.max(candidate.from, end);
      else {
        candidate.to = Math.min(candidate.to, t);
        candidate.past.add(track);
      }
      if (t - candidate.to >= Math.min(FILE_GAP_SETTLE, minimum)) this.judgeFileGap();
    }
    if (!this.fileGap && gap >= minimum)
      this.fileGap = { from: this.mediaEnd as number, to: t, past: new Set([track]) };
    const open = this.fileGap;
    if (open && [...this.tracksSeen].every((k) => open.past.has(k))) this.judgeFileGap();
  }

  /** Raises and clears the file's pending gap if it still spans the rule's length. */
  private judgeFileGap(): void {
    const candidate = this.fileGap;
    if (!candidate) return;
    this.fileGap = null;
    const gap = candidate.to - candidate.from;
    if (gap < this.context.thresholds.loss.minDuration) return;
    this.context.emit({
      type: this.type,
      t: candidate.from,
      duration: gap,
      active: true,
      detail: { maxSecondsWithoutMedia: Math.round(gap * 10) / 10 },
    });
    this.context.emit({ type: this.type, t: candidate.to, duration: 0, active: false });
  }
}
