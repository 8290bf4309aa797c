/**
 * The loudness log's stored form, written by the worker (worker/pipeline/LoudnessLog.ts) and read
 * by the API (GET /streams/{id}/loudness): one JSON object per stream and minute.
 */

/** One second of the log. */
export interface LoudnessPoint {
  at: string;
  momentaryLufs: number | null;
  shortTermLufs: number | null;
  truePeakDbtp: number | null;
}

/** A period's figures as measured up to some minute. */
export interface LoudnessPeriod {
  from: string;
  to: string;
  /** When this measurement of the period began (later than `from` when it began mid-period). */
  measuredFrom: string;
  /** Up to when it has measured. */
  measuredTo: string;
  seconds: number;
  standard: string;
  integratedLufs: number | null;
  rangeLu: number;
  truePeakDbtp: number | null;
  compliant: boolean;
  reasons: string[];
  /** The period is over and was measured from its start. */
  complete: boolean;
}

export interface LoudnessMinute {
  streamId: string;
  minute: string;
  points: LoudnessPoint[];
  period: LoudnessPeriod;
}

/** The key of the minute starting at `ms` (UTC). */
export function loudnessMinuteKey(streamId: string, ms: number): string {
  const iso = new Date(Math.floor(ms / 60_000) * 60_000).toISOString();
  return `streams/${streamId}/loudness/${iso.slice(0, 10)}/${iso.slice(11, 13)}-${iso.slice(14, 16)}.json`;
}
