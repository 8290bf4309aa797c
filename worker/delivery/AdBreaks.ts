/**
 * Ad breaks a source signals, reported as `ad.break` (raised at the break's start with its planned
 * duration, cleared at its return — at the planned end when the cue says the return is automatic —
 * or `thresholds.scte35.breakTolerance` (2 s) of media past its planned duration without one:
 * `detail.returned: false`). Breaks go to black, silence and slates by design: while one is open,
 * those alarms are held back (worker/alarms/Inhibitor.ts). What the cues do wrong is judged by
 * CueChecks.ts (`scte35.*`).
 *
 * - HLS (EXT-X-CUE-OUT/IN, EXT-X-DATERANGE SCTE35-OUT/IN): a cue takes effect when the decoder
 *   fetches the segment that carries it — by media sequence number, so a cue is not missed when the
 *   decoder skips its segment — and is dated where that segment starts in media time (its first
 *   PTS, for TS segments), not where the decoded media has got to: a return takes effect when the
 *   decoded media reaches it.
 * - MPEG-TS (SCTE-35 on the cue PID, read by the worker's tap): splice_insert out/in and time_signal
 *   segmentation starts/ends; a cue comes before its splice time (pre-roll), so the return takes
 *   effect when the decoded media reaches the splice time, not when the cue arrives.
 */
import {
  DEFAULT_SEVERITY,
  type DefectEvent,
  type DefectType,
  type DetailValue,
} from '../../shared/events.js';
import { sha256Hex } from '../../shared/sha256.js';
import type { Thresholds } from '../../shared/thresholds.js';
import type { MediaClock } from '../converter/MediaClock.js';
import type { Emit } from '../detectors/types.js';
import type { CueReport } from '../transport/cueLog.js';
import { SEGMENT_ENDS, SEGMENT_STARTS, type SpliceInfo } from '../transport/scte35.js';
import { CueChecks } from './CueChecks.js';
import type { SegmentInfo } from './segments.js';

/** A break without a return ends this many seconds of media after its planned duration (default). */
const OVERRUN_SECONDS = 2;
/**
 * A fetched segment said to start further than this (seconds) from the media decoded so far is
 * misplaced (a timestamp wrap, a new epoch after a restart): its cues are dated at the decoded media.
 */
const MAX_SEGMENT_LEAD = 30;

/**
 * The ad-break tracker of a stream whose types include `ad.break` or an `scte35.*` check (null
 * otherwise): breaks are reported only when `ad.break` is on, the checks' observations go to
 * `observe` (the stream's alarm tracker).
 */
export function adBreaksFor(
  types: readonly DefectType[],
  thresholds: Thresholds,
  streamId: string,
  clock: Pick<MediaClock, 'mediaTime'>,
  wallClock: ((mediaTime: number) => Date) | undefined,
  emit: (event: DefectEvent) => void,
  observe: Emit | undefined,
): AdBreaks | null {
  const checks = observe ? new CueChecks(types, thresholds.scte35, observe, clock) : null;
  const reported = types.includes('ad.break');
  if (!reported && !checks?.active) return null;
  return new AdBreaks(streamId, clock, wallClock, reported ? emit : () => {}, {
    checks: checks?.active ? checks : undefined,
    tolerance: thresholds.scte35.breakTolerance,
  });
}

export class AdBreaks {
  private open: { event: DefectEvent; planned?: number; autoReturn?: boolean } | null = null;
  /** A return signalled ahead of its splice time: the media time it takes effect at, and its detail. */
  private returnAt: { time: number; detail: Record<string, DetailValue> } | null = null;
  private count = 0;
  /** The newest media sequence number whose cues have taken effect (HLS). */
  private lastMsn: number | null = null;
  /** The HLS playlist has carried a cue tag: its tags, not the segments' in-band cues, say the breaks. */
  private playlistCues = false;

  constructor(
    private readonly streamId: string,
    private readonly clock: Pick<MediaClock, 'mediaTime'>,
    private readonly wallClock: ((mediaTime: number) => Date) | undefined,
    private readonly emit: (event: DefectEvent) => void,
    private readonly options: { checks?: CueChecks; tolerance?: number } = {},
  ) {}

  private get checks(): CueChecks | undefined {
    return this.options.checks;
  }

  /**
   * HLS: the decoder fetched a segment of the decoded rendition; the cues of every listed segment
   * up to it (by media sequence number) take effect, in order. A segment fetched again changes
   * nothing.
   * @param startsAt the media time the fetched segment starts at (its first PTS placed on the
   * stream's clock), or null when unknown: its cues are then dated at the media decoded so far
   */
  fetched(
    segment: SegmentInfo,
    listed: Iterable<SegmentInfo> = [segment],
    startsAt: number | null = null,
  ): void {
    const joining = this.lastMsn === null || segment.msn < this.lastMsn - 1000;
    const from = joining ? Number.NEGATIVE_INFINITY : (this.lastMsn as number);
    if (segment.msn <= from) return;
    this.lastMsn = segment.msn;
    const all = [...listed];
    const decoded = this.clock.mediaTime;
    const anchor = startsAt !== null && Math.abs(startsAt - decoded) <= MAX_SEGMENT_LEAD ? startsAt : null;
    // Where a cued segment starts: the fetched one's start, less the listed segments between them.
    const startOf = (s: SegmentInfo): number => {
      if (anchor === null) return decoded;
      let t = anchor;
      for (const x of all) if (x.msn >= s.msn && x.msn < segment.msn) t -= x.duration;
      return Math.max(0, t);
    };
    let cued = all.filter((s) => s.cue && s.msn > from && s.msn <= segment.msn).sort((a, b) => a.msn - b.msn);
    if (cued.length) this.playlistCues = true;
    // Joining (or the sequence started again): only where the listed cues leave the stream counts —
    // inside a break when the last one is an out cue; breaks already over are not reported.
    if (joining) cued = cued.slice(-1).filter((s) => s.cue?.kind === 'out');
    for (const s of cued) {
      const cue = s.cue!;
      this.checks?.cueArrived(Date.now(), false);
      if (cue.reason) this.checks?.malformed(cue.reason);
      if (cue.kind === 'invalid') continue;
      if (cue.kind === 'out')
        this.start(
          startOf(s),
          cue.duration,
          { signal: cue.tag, ...(cue.id ? { cueId: cue.id } : {}), segment: s.uri },
          cue.autoReturn === true,
        );
      else if (this.open) this.returnAt = { time: startOf(s), detail: { returnSegment: s.uri } };
      else this.checks?.returnWithoutBreak({ signal: cue.tag, segment: s.uri });
    }
    // A return the decoded media has already reached ends the break now.
    this.judge();
  }

  /**
   * MPEG-TS: SCTE-35 cues read from the cue PID; `mediaTimeOf` places a splice time (PTS seconds)
   * on the stream's media time (null before the first decoded sample: the cue counts from now).
   */
  spliced(reports: CueReport[], mediaTimeOf: (pts: number) => number | null): void {
    for (const { cue, error, atMs } of reports) {
      if (!cue) {
        if (error) this.checks?.malformed(error);
        continue;
      }
      const heartbeat =
        cue.command === 'splice_null' || (cue.command === 'time_signal' && cue.segmentation.length === 0);
      this.checks?.cueArrived(atMs, heartbeat);
      const arrival = this.clock.mediaTime;
      // Where the splice falls on the media timeline; `known` false before the first decoded sample.
      const at = (info: SpliceInfo) => {
        if (info.spliceTime === null || info.insert?.immediate) return { time: arrival, known: true };
        const placed = mediaTimeOf(info.spliceTime);
        return placed === null ? { time: arrival, known: false } : { time: placed, known: true };
      };
      const out = (info: SpliceInfo, planned: number | undefined, detail: Record<string, DetailValue>) => {
        const splice = at(info);
        if (splice.known)
          this.checks?.preroll(splice.time - arrival, {
            signal: String(detail.signal),
            cueId: String(detail.cueId),
          });
        this.start(splice.time, planned, detail, info.insert?.autoReturn === true);
      };
      const back = (info: SpliceInfo, signal: string) => {
        if (this.open) this.returnAt = { time: at(info).time, detail: {} };
        else this.checks?.returnWithoutBreak({ signal });
      };
      const insert = cue.insert;
      if (cue.command === 'splice_insert' && insert && !insert.cancelled) {
        if (insert.outOfNetwork)
          out(cue, insert.duration, { signal: 'SCTE-35 splice_insert', cueId: insert.eventId });
        else back(cue, 'SCTE-35 splice_insert');
      }
      for (const d of cue.command === 'time_signal' ? cue.segmentation : []) {
        if (d.cancelled) continue;
        if (SEGMENT_STARTS.has(d.typeId))
          out(cue, d.duration, {
            signal: 'SCTE-35 time_signal',
            cueId: d.eventId,
            segmentationType: d.typeId,
          });
        else if (SEGMENT_ENDS.has(d.typeId)) back(cue, 'SCTE-35 time_signal');
      }
    }
    // The checks' findings go to the tracker at the next tick, dated where they were made.
    this.judge();
  }

  /**
   * HLS with TS segments: SCTE-35 cues in the decoded rendition's segments (their cue PID), as for
   * a UDP/RTP source — unless the playlist signals breaks with tags, which then say them alone (a
   * packager that writes both would otherwise report each break twice).
   */
  inBand(reports: CueReport[], mediaTimeOf: (pts: number) => number | null): void {
    if (!this.playlistCues) this.spliced(reports, mediaTimeOf);
  }

  /** Ends a break whose return time the media has reached, or whose planned duration ran out. */
  tick(nowMs = Date.now()): void {
    this.judge();
    this.checks?.tick(nowMs);
  }

  private judge(): void {
    const open = this.open;
    if (!open) return;
    const now = this.clock.mediaTime;
    if (this.returnAt !== null && now >= this.returnAt.time) {
      this.end(true, this.returnAt.detail, this.returnAt.time);
      return;
    }
    if (!open.planned) return;
    const plannedEnd = open.event.start + open.planned;
    // The cue said the return is automatic: the break ends where it was planned to.
    if (open.autoReturn && now >= plannedEnd) this.end(true, { autoReturn: true }, plannedEnd);
    else if (now > plannedEnd + (this.options.tolerance ?? OVERRUN_SECONDS)) {
      this.end(false, {});
      // The break is reported over; the overrun stays open until its return cue or the next break.
      this.checks?.overran({
        cueId: String(open.event.detail.cueId ?? ''),
        plannedDuration: open.planned,
        breakStart: open.event.start,
      });
    }
  }

  private start(
    at: number,
    planned: number | undefined,
    detail: Record<string, DetailValue>,
    autoReturn = false,
  ): void {
    // A break whose return comes before this one's start is over by then.
    const back = this.returnAt;
    if (this.open && back !== null && at >= back.time) this.end(true, back.detail, back.time);
    if (this.open) return;
    this.checks?.breakStarted();
    this.returnAt = null;
    const key = sha256Hex(`${this.streamId}|${at}|${++this.count}`);
    const event: DefectEvent = {
      type: 'ad.break',
      state: 'raised',
      streamId: this.streamId,
      start: at,
      end: null,
      ...(this.wallClock ? { wallStart: this.wallClock(at).toISOString() } : {}),
      severity: DEFAULT_SEVERITY['ad.break'],
      dedupKey: `ad.break:${key.slice(0, 20)}`,
      detail: { ...detail, ...(planned ? { plannedDuration: planned } : {}) },
    };
    this.open = { event, planned, autoReturn };
    this.emit(event);
  }

  private end(returned: boolean, detail: Record<string, DetailValue>, at = this.clock.mediaTime): void {
    const open = this.open;
    if (!open) return;
    this.open = null;
    this.returnAt = null;
    this.checks?.breakEnded();
    const end = Math.max(open.event.start, at);
    this.emit({
      ...open.event,
      state: 'cleared',
      end,
      ...(this.wallClock ? { wallEnd: this.wallClock(end).toISOString() } : {}),
      detail: {
        ...open.event.detail,
        ...detail,
        returned,
        duration: Math.round((end - open.event.start) * 1000) / 1000,
      },
    });
  }
}
