/** Stable incident keys: `raised` and `cleared` share one, and a retry or a restart repeats it. */
import { sha256Hex } from '../../shared/sha256.js';

/**
 * The dedup key of an incident.
 * @param anchor what pins the incident in time: media start for files, wall start (ms) for live.
 * @param subject what the incident is about when not the whole stream (a rendition's URI)
 */
export function dedupKey(streamId: string, type: string, anchor: number, subject?: string): string {
  const digest = sha256Hex(`${streamId}\n${type}\n${Math.round(anchor)}${subject ? `\n${subject}` : ''}`);
  return `${type}:${digest.slice(0, 20)}`;
}
