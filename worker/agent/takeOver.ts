/**
 * Taking over a departed worker: each worker looks at the next one in the fleet ring; when that
 * one's lease has run out, it is marked taken over (its own next heartbeat then fails and it
 * rejoins under a new id) and its units go back to waiting, with the reason, for whoever has
 * room. One departed worker per call; a chain of them is worked through call by call, each time
 * by whoever now precedes it.
 *
 * Each departure counts against the units it held (units.ts strike): a unit whose workers keep
 * dying under it — a document or stream that crashes whatever runs it — is quarantined at the
 * policy's limit instead of being handed to the next worker to crash. The first death strikes
 * every unit the worker held (nothing tells which one did it); after that the struck units are
 * suspects, a worker holds at most one of them (WorkerAgent claims), and a death where the worker
 * held a suspect strikes only that suspect: the others there were bystanders.
 */
import type { Member, Registry } from '../../shared/registry/Registry.js';
import type { StrikePolicy, UnitItem } from '../../shared/registry/units.js';

export interface TakeOver {
  from: Member;
  moved: number;
  /** Units parked by this departure, with why. */
  quarantined: Array<{ unit: UnitItem; why: string; strikes: number }>;
}

/** Struck within the policy's window: a suspect of the next death. */
export function isSuspect(unit: UnitItem, policy: StrikePolicy, now = Date.now()): boolean {
  return unit.lastStrikeAt !== undefined && now - unit.lastStrikeAt <= policy.windowMs;
}

export async function takeOverSuccessor(
  registry: Registry,
  memberId: string,
  policy: StrikePolicy,
  now = Date.now(),
): Promise<TakeOver | null> {
  const { fleet, units } = registry;
  const next = await fleet.successor(memberId);
  if (!next || next.leaseUntil >= now) return null;
  if (!next.reaped && !(await fleet.markReaped(next.memberId, now))) return null;
  const reason = `worker ${next.workerId} stopped heartbeating`;
  let moved = 0;
  const quarantined: TakeOver['quarantined'] = [];
  const held = await units.getMany(await units.heldBy(next.memberId));
  const suspects = held.filter((u) => isSuspect(u, policy, now));
  for (const unit of held) {
    if (suspects.length > 0 && !suspects.includes(unit)) {
      if (await units.release(unit.unitId, next.memberId, reason)) moved++;
      continue;
    }
    const struck = await units.strike(unit, next.memberId, reason, policy, now);
    if (struck?.outcome === 'waiting') moved++;
    else if (struck) quarantined.push({ unit, why: struck.why, strikes: struck.strikes });
  }
  await fleet.leave(next.memberId);
  return { from: next, moved, quarantined };
}
