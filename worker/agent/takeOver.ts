/**
 * Taking over a departed worker: each worker looks at the next one in the fleet ring; when that
 * one's lease has run out, it is marked taken over (its own next heartbeat then fails and it
 * rejoins under a new id) and its units go back to waiting, with the reason, for whoever has
 * room. One departed worker per call; a chain of them is worked through call by call, each time
 * by whoever now precedes it.
 */
import type { Member, Registry } from '../../shared/registry/Registry.js';

export async function takeOverSuccessor(
  registry: Registry,
  memberId: string,
  now = Date.now(),
): Promise<{ from: Member; moved: number } | null> {
  const { fleet, units } = registry;
  const next = await fleet.successor(memberId);
  if (!next || next.leaseUntil >= now) return null;
  if (!next.reaped && !(await fleet.markReaped(next.memberId, now))) return null;
  const reason = `worker ${next.workerId} stopped heartbeating`;
  let moved = 0;
  for (const id of await units.heldBy(next.memberId))
    if (await units.release(id, next.memberId, reason)) moved++;
  await fleet.leave(next.memberId);
  return { from: next, moved };
}
