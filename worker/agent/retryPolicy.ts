/**
 * When a live unit's source is opened again after a run ended: at once after a run that delivered
 * media and was then cut short (ffmpeg killed, crashed, restarted at the live edge); otherwise with
 * capped exponential backoff, and not more often than every 10 s for an input that ended (a closed
 * playlist is read again from its start on every try).
 */

export const MAX_BACKOFF_SECONDS = 30;
/** A run that delivered media for this long resets the backoff: the next open is tried at once. */
const HEALTHY_RUN_SECONDS = 10;
/** Pause before re-opening after a healthy run (the converter was killed or restarted). */
const QUICK_RETRY_SECONDS = 0.2;
/** Least wait before re-opening an input that ended (a closed playlist). */
const ENDED_MIN_BACKOFF_SECONDS = 10;

export interface RunOutcome {
  /** ffmpeg read the input to its end. */
  ended: boolean;
  ranForSeconds: number;
  /** Pictures and sound chunks the run delivered. */
  delivered: number;
}

/** The wait before the next open, and the backoff after it (start with 1). */
export function nextRetry(run: RunOutcome, backoff: number): { waitSeconds: number; backoff: number } {
  const healthy = !run.ended && run.ranForSeconds >= HEALTHY_RUN_SECONDS && run.delivered > 0;
  let current = healthy ? 1 : backoff;
  if (run.ended) current = Math.max(current, ENDED_MIN_BACKOFF_SECONDS);
  if (healthy) return { waitSeconds: QUICK_RETRY_SECONDS, backoff: current };
  return { waitSeconds: current, backoff: Math.min(MAX_BACKOFF_SECONDS, current * 2) };
}
