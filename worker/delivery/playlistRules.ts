/**
 * The playlist-diff rules: each load of a rendition's segment list (an HLS media playlist, or a
 * Representation of a DASH MPD) compared with the previous one — the media sequence going back or
 * skipping, segments re-listed differently, over-long segments, timeline gaps, a playlist that
 * stops changing — and whether a failing playlist is a missing variant or the origin being down.
 */
import type { DeliveryType } from '../../shared/events.js';
import type { Thresholds } from '../../shared/thresholds.js';
import type { Detail } from '../detectors/types.js';
import type { HlsMedia } from './hlsPlaylist.js';
import type { Rendition } from './Rendition.js';
import type { SegmentInfo } from './segments.js';

/** Shortest reload interval, seconds, whatever target duration a playlist claims. */
export const MIN_TARGET_DURATION = 1;

/** What a load says about the list besides its segments. */
export interface ListLimits {
  targetDuration: number;
  /** Segments this long or longer break the playlist's own limit (null: it declares none). */
  longest: number | null;
  ended: boolean;
  /** The first sequence number when no segment is listed. */
  emptyFirst: number;
}

/** What the rules report to. */
export interface RuleSink {
  fault(r: Rendition, type: DeliveryType, detail: Detail): void;
  /** New segments were listed (the newest may be sampled). */
  listed(r: Rendition): void;
}

/** An HLS media playlist's limits, as every ladder shares them. */
export function hlsLimits(playlist: HlsMedia): ListLimits {
  return {
    targetDuration: playlist.targetDuration,
    // RFC 8216 §4.3.3.1: a segment's duration, rounded to an integer, is at most the target.
    longest: playlist.targetDuration ? playlist.targetDuration + 0.5 : null,
    ended: playlist.endlist,
    emptyFirst: playlist.mediaSequenceBase,
  };
}

/** Compares a fresh list of a rendition's segments with the last one; true when it changed. */
export function applyList(
  r: Rendition,
  fresh: SegmentInfo[],
  limits: ListLimits,
  rule: Thresholds['delivery'],
  sink: RuleSink,
): boolean {
  r.targetDuration = Math.max(MIN_TARGET_DURATION, limits.targetDuration || r.targetDuration);
  const now = Date.now();
  const wasLoaded = r.loaded && r.segments.size > 0;
  const prevFirst = wasLoaded ? r.first : 0;
  const prevLast = wasLoaded ? r.last : -1;
  const first = fresh[0]?.msn ?? limits.emptyFirst;
  const last = fresh.length ? fresh[fresh.length - 1].msn : first - 1;
  const changed = !wasLoaded || first !== prevFirst || last !== prevLast || limits.ended !== r.ended;
  if (wasLoaded) {
    if (first < prevFirst)
      sink.fault(r, 'delivery.sequence', { reason: 'media sequence went back', from: prevFirst, to: first });
    else if (first > prevLast + 1 && !missedByUs(r, first - prevLast - 1, now))
      sink.fault(r, 'delivery.sequence', { reason: 'segments skipped', skipped: first - prevLast - 1 });
    for (const s of fresh) {
      const before = r.segments.get(s.msn);
      if (!before) continue;
      if (before.uri !== s.uri || Math.abs(before.duration - s.duration) > 0.001)
        sink.fault(r, 'delivery.sequence', { reason: 're-listed with another URI or duration', msn: s.msn });
      else if (before.discontinuity !== s.discontinuity)
        sink.fault(r, 'delivery.sequence', { reason: 'discontinuity sequence inconsistent', msn: s.msn });
    }
  }
  fresh.forEach((s, i) => {
    if (s.msn <= prevLast) return;
    if (limits.longest !== null && s.duration >= limits.longest)
      sink.fault(r, 'delivery.segment_duration', {
        msn: s.msn,
        duration: s.duration,
        targetDuration: limits.targetDuration,
      });
    // DASH: a segment that does not start where the one before it ended (a SegmentTimeline gap).
    const before = fresh[i - 1];
    if (i > 0 && s.start !== undefined && before.start !== undefined) {
      const gap = s.start - (before.start + before.duration);
      if (Math.abs(gap) > 0.05)
        sink.fault(r, 'delivery.sequence', {
          reason: gap > 0 ? 'timeline gap' : 'timeline overlap',
          msn: s.msn,
          seconds: Math.round(gap * 1000) / 1000,
        });
    }
  });
  r.lastLoadAt = now;
  r.segments = new Map(fresh.map((s) => [s.msn, s]));
  r.byUri = new Map(fresh.map((s) => [s.uri, s]));
  r.first = first;
  r.last = last;
  r.loaded = true;
  r.ended = limits.ended;
  if (changed) {
    r.lastChangeAt = now;
    r.stale = null;
  } else if (!limits.ended && now - r.lastChangeAt > rule.staleFactor * r.targetDuration * 1000) {
    r.stale = {
      secondsUnchanged: Math.round((now - r.lastChangeAt) / 100) / 10,
      targetDuration: r.targetDuration,
      mediaSequence: last,
    };
  }
  if (fresh.length && last > prevLast) sink.listed(r);
  return changed;
}

/**
 * Segments that slid out of a live window while this monitor could not load the playlist (the
 * origin was down, a poll failed): the monitor's own gap, not the packager's. A skip of no more
 * segments than could have been published since the last load is that (one incident per cause:
 * the outage is the stream's loss).
 */
export function missedByUs(r: Rendition, skipped: number, now: number): boolean {
  if (r.lastLoadAt === null) return false;
  const absent = (now - r.lastLoadAt) / 1000;
  if (absent <= 2 * r.targetDuration) return false;
  return skipped <= Math.ceil(absent / r.targetDuration) + 1;
}

/**
 * A variant's playlist failing is `delivery.variant_missing` only while another rendition of the
 * ladder has loaded, without failing, since it began to fail: when every playlist fails together
 * (and comes back together) the origin is down, which is the stream's loss (raised by the loss
 * rule), not a missing variant per rendition. DASH (`oneDocument`): one MPD lists every
 * Representation; its failures are reported as they are.
 */
export function missingNow(r: Rendition, ladder: readonly Rendition[], oneDocument: boolean): Detail | null {
  if (!r.missing || oneDocument || r.failingSince === null) return r.missing;
  const since = r.failingSince;
  const healthy = (x: Rendition) =>
    x !== r && x.lastLoadAt !== null && x.lastLoadAt > since && (x.lastFailureAt ?? 0) < since;
  return ladder.some(healthy) ? r.missing : null;
}
