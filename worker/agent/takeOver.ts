/**
 * Taking over a departed worker: each worker looks at the next one in the fleet ring; when that
 * one's lease has run out, it is marked taken over (its own next heartbeat then fails and it
 * rejoins under a new id) and its units go back to waiting, with the reason, for whoever has
 * room. One departed worker per call; a chain of them is worked through call by call, each time
 * by whoever now precedes it.
 *
 * Each departure counts against the units it held (units.ts strike): a unit whose workers keep
 * dying under it — a document or stream that crashes whatever runs it — is quarantined at the
 * policy's limit instead of being handed to the next worker to crash.
 */
import type { Member, Registry } from '../../shared/registry/Registry.js';
import type { StrikePolicy, UnitItem } from '../../shared/registry/units.js';

export interface TakeOver {
  from: Member;
  moved: number;
  /** Units parked by this departure, with why. */
  quarantined: Array<{ unit: UnitItem; why: string; strikes: number }>;
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
  for (const unit of held) {
    const struck = await units.strike(unit, next.memberId, reason, policy, now);
    if (struck?.outcome === 'waiting') moved++;
    else if (struck) quarantined.push({ unit, why: struck.why, strikes: struck.strikes });
  }
  await fleet.leave(next.memberId);
  return { from: next, moved, quarantined };
}
