/**
 * Where a live stream's media timeline stood when its last monitor stopped (a worker that died,
 * drained or let the unit go), so the next one continues it instead of starting again at 0: the
 * incidents it restores then end after they began, and new ones are dated on the same timeline.
 */
import type { DefectEvent } from '../../shared/events.js';
import type { StreamHealth } from '../../shared/streamSpec.js';

export interface ResumePoint {
  /** Media time, seconds. */
  mediaTime: number;
  /** Wall-clock time (ms) when that media arrived. */
  atMs: number;
}

/**
 * The newest anchor of the unit's timeline: its last health report (newest media time and when
 * it arrived) or an open alarm's start and the wall time of its first frame, whichever is later.
 */
export function resumePoint(health: StreamHealth | undefined, openAlarms: DefectEvent[]): ResumePoint | null {
  const anchors: ResumePoint[] = [];
  if (health?.lastMediaAt && health.mediaTime > 0)
    anchors.push({ mediaTime: health.mediaTime, atMs: Date.parse(health.lastMediaAt) });
  for (const e of openAlarms)
    if (e.wallStart && e.start > 0) anchors.push({ mediaTime: e.start, atMs: Date.parse(e.wallStart) });
  const valid = anchors.filter((a) => Number.isFinite(a.atMs) && Number.isFinite(a.mediaTime));
  if (valid.length === 0) return null;
  return valid.reduce((a, b) => (b.atMs > a.atMs ? b : a));
}
