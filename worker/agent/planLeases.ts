/**
 * What a worker does with its leases on one tick, as a pure function of what it sees: the units
 * it runs, the units the registry says it holds, a sample of waiting units, its budget and load.
 * Capacity is counted in units. A unit moves only when it must: its stream was deleted or it was
 * taken over (stop), the worker drains, is over its budget or measured itself over capacity
 * (release, newest first, with the reason shown to the stream's owner), or it waits and this
 * worker has room by budget, measured headroom and free open slots (claim). A worker falling behind
 * only stops claiming: lag also grows while a source is down, so it is no reason to move a unit.
 */

export interface LeaseSnapshot {
  workerId: string;
  budget: number;
  draining: boolean;
  /** Units running here, with when each started (epoch ms). */
  running: Array<{ unitId: string; since: number }>;
  /** Units the registry says this worker holds. */
  held: string[];
  /** Waiting units seen this tick, in the order to try them. */
  waiting: string[];
  /** Some unit here is falling behind the live edge. */
  behind: boolean;
  /** Most units to claim in one tick (spreads a burst of registrations over the fleet). */
  maxClaims: number;
  /** Most units the worker's measured headroom and free open slots let it start now (no limit when absent). */
  admit?: number;
  /** Units to hand back because the worker measured itself over capacity, with the reason shown to owners. */
  shed?: { count: number; reason: string };
}

export interface LeasePlan {
  /** Running here but no longer held (stream deleted, or taken over): stop, nothing to release. */
  stop: string[];
  /** Held but not running here (after the worker paused itself): start again. */
  resume: string[];
  release: Array<{ unitId: string; reason: string }>;
  claim: string[];
  /** Units this worker could still take this tick. */
  room: number;
}

export function planLeases(s: LeaseSnapshot): LeasePlan {
  const held = new Set(s.held);
  const runningIds = new Set(s.running.map((r) => r.unitId));
  const stop = s.running.filter((r) => !held.has(r.unitId)).map((r) => r.unitId);
  // Oldest first: the units kept under a budget are the ones that have run longest.
  const since = new Map(s.running.map((r) => [r.unitId, r.since]));
  const kept = [...held].sort(
    (a, b) =>
      (since.get(a) ?? Number.POSITIVE_INFINITY) - (since.get(b) ?? Number.POSITIVE_INFINITY) ||
      (a < b ? -1 : 1),
  );
  const release: LeasePlan['release'] = [];
  const give = (count: number, reason: string) => {
    for (const unitId of kept.splice(Math.max(0, kept.length - count), count))
      release.push({ unitId, reason });
  };
  if (s.draining) give(kept.length, `worker ${s.workerId} drained`);
  else if (kept.length > s.budget) give(kept.length - s.budget, `over the budget of worker ${s.workerId}`);
  else if (s.shed && s.shed.count > 0) give(Math.min(s.shed.count, kept.length), s.shed.reason);
  const resume = kept.filter((id) => !runningIds.has(id));
  const shedding = release.length > 0;
  const room =
    s.draining || s.behind || shedding
      ? 0
      : Math.max(0, Math.min(s.budget - kept.length, s.admit ?? Number.POSITIVE_INFINITY));
  const claim = s.waiting.filter((id) => !held.has(id)).slice(0, Math.min(room, s.maxClaims));
  return { stop, resume, release, claim, room };
}
