/** Human-readable rendering of a defect event for `analyze --format text`. */
import type { DefectEvent } from '../shared/events.js';

/** Seconds as H:MM:SS.mmm. */
export function clock(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = ((ms % 60_000) / 1000).toFixed(3).padStart(6, '0');
  return `${h}:${String(m).padStart(2, '0')}:${s}`;
}

export function formatEvent(event: DefectEvent): string {
  const span = `${clock(event.start)} – ${event.end === null ? 'ongoing' : clock(event.end)}`;
  const detail = Object.entries(event.detail)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return `${span}  ${event.type.padEnd(16)} ${event.severity.padEnd(8)} ${detail}`;
}
