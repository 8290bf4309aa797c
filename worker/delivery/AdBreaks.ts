/**
 * Ad breaks an HLS source signals (EXT-X-CUE-OUT/IN, EXT-X-DATERANGE SCTE35-OUT/IN): when the
 * decoder reaches the segment that carries a cue, the break is reported — `ad.break` raised at
 * the out cue (with its planned duration), cleared at the in cue, or when the planned duration
 * has run out without one (`detail.returned: false`). Breaks go to black, silence and slates by
 * design: while one is open, those alarms are held back (worker/alarms/Inhibitor.ts).
 */
import { createHash } from 'node:crypto';
import { DEFAULT_SEVERITY, type DefectEvent } from '../../shared/events.js';
import type { MediaClock } from '../converter/MediaClock.js';
import type { SegmentInfo } from './segments.js';

/** A break without an in cue ends this long after its planned duration. */
const OVERRUN_SECONDS = 2;

export class AdBreaks {
  private open: { event: DefectEvent; openedAtMs: number; planned?: number } | null = null;
  private count = 0;
  /** The newest media sequence number whose cues have taken effect. */
  private lastMsn: number | null = null;

  constructor(
    private readonly streamId: string,
    private readonly clock: Pick<MediaClock, 'mediaTime'>,
    private readonly wallClock: ((mediaTime: number) => Date) | undefined,
    private readonly emit: (event: DefectEvent) => void,
  ) {}

  /**
   * The decoder fetched a segment of the decoded rendition: the cues of every listed segment up to
   * it (by media sequence number) take effect, in order — so a cue is not missed when the decoder
   * skips its segment (a restart at the live edge). A segment fetched again changes nothing.
   */
  fetched(segment: SegmentInfo, listed: Iterable<SegmentInfo> = [segment], nowMs = Date.now()): void {
    let from = this.lastMsn ?? segment.msn - 1;
    // The sequence started again (a packager restart): cues count from here.
    if (segment.msn < from - 1000) from = segment.msn - 1;
    if (segment.msn <= from) return;
    this.lastMsn = segment.msn;
    const cues = [...listed]
      .filter((s) => s.cue && s.msn > from && s.msn <= segment.msn)
      .sort((a, b) => a.msn - b.msn);
    for (const s of cues) this.apply(s, nowMs);
  }

  private apply(segment: SegmentInfo, nowMs: number): void {
    const cue = segment.cue;
    if (!cue) return;
    if (cue.kind === 'out' && !this.open) {
      const start = this.clock.mediaTime;
      const key = createHash('sha256')
        .update(`${this.streamId}|${segment.uri}|${++this.count}`)
        .digest('hex');
      const event: DefectEvent = {
        type: 'ad.break',
        state: 'raised',
        streamId: this.streamId,
        start,
        end: null,
        ...(this.wallClock ? { wallStart: this.wallClock(start).toISOString() } : {}),
        severity: DEFAULT_SEVERITY['ad.break'],
        dedupKey: `ad.break:${key.slice(0, 20)}`,
        detail: {
          signal: cue.tag,
          ...(cue.id ? { cueId: cue.id } : {}),
          ...(cue.duration ? { plannedDuration: cue.duration } : {}),
          segment: segment.uri,
        },
      };
      this.open = { event, openedAtMs: nowMs, planned: cue.duration };
      this.emit(event);
    } else if (cue.kind === 'in' && this.open) this.close(true, segment.uri);
  }

  /** Ends a break whose planned duration ran out without an in cue. */
  tick(nowMs = Date.now()): void {
    const open = this.open;
    if (!open?.planned) return;
    if (nowMs - open.openedAtMs > (open.planned + OVERRUN_SECONDS) * 1000) this.close(false);
  }

  private close(returned: boolean, segment?: string): void {
    const open = this.open;
    if (!open) return;
    this.open = null;
    const end = Math.max(open.event.start, this.clock.mediaTime);
    this.emit({
      ...open.event,
      state: 'cleared',
      end,
      ...(this.wallClock ? { wallEnd: this.wallClock(end).toISOString() } : {}),
      detail: {
        ...open.event.detail,
        returned,
        duration: Math.round((end - open.event.start) * 1000) / 1000,
        ...(segment ? { returnSegment: segment } : {}),
      },
    });
  }
}
