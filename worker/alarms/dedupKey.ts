/** Stable incident keys: `raised` and `cleared` share one, and a retry or a restart repeats it. */
import { createHash } from 'node:crypto';

/**
 * The dedup key of an incident.
 * @param anchor what pins the incident in time: media start for files, wall start (ms) for live.
 */
export function dedupKey(streamId: string, type: string, anchor: number): string {
  const digest = createHash('sha256')
    .update(`${streamId}\n${type}\n${Math.round(anchor)}`)
    .digest('hex');
  return `${type}:${digest.slice(0, 20)}`;
}
