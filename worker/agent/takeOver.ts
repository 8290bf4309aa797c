/**
 * Taking over a departed worker: each worker looks at the next one in the fleet ring; when that
 * one's lease has run out, it is marked taken over (its own next heartbeat then fails and it
 * rejoins under a new id) and its units go back to waiting, with the reason, for whoever has
 * room. One departed worker per call; a chain of them is worked through call by call, each time
 * by whoever now precedes it.
 *
 * Each departure counts against units it held (units.ts strike), so that a unit whose workers
 * keep dying under it — a document or stream that crashes whatever runs it — is quarantined at
 * the policy's limit instead of being handed to the next worker to crash:
 * - a death strikes the units with the most recent strikes among those the worker held (all of
 *   them when none had any: nothing tells which one did it); the others there were bystanders and
 *   simply go back to waiting;
 * - a unit one strike short of the limit is a prime suspect: a worker holds at most one
 *   (WorkerAgent claims), so the next death points at it alone;
 * - a unit that runs well for ABSOLVE_MS on one worker has its strikes forgotten.
 */
import type { Logger } from '../../shared/logger.js';
import { redactDeep } from '../../shared/redact.js';
import type { Member, Registry } from '../../shared/registry/Registry.js';
import type { StrikePolicy, UnitItem } from '../../shared/registry/units.js';
import { type AlarmSinks, recordAlarm, unmonitoredEvent } from '../alarms/recordAlarm.js';

/** A unit held this long without its worker dying has its strikes forgotten. */
export const ABSOLVE_MS = 5 * 60_000;

export interface TakeOver {
  from: Member;
  moved: number;
  /** Units parked by this departure, with why. */
  quarantined: Array<{ unit: UnitItem; why: string; strikes: number }>;
}

/** Strikes a unit has within the policy's window. */
export function recentStrikes(unit: UnitItem, policy: StrikePolicy, now = Date.now()): number {
  const recent = unit.lastStrikeAt !== undefined && now - unit.lastStrikeAt <= policy.windowMs;
  return recent ? (unit.strikes ?? 0) : 0;
}

/** Strikes that make a unit a prime suspect (one short of the limit, at least one). */
export function primeStrikes(policy: StrikePolicy): number {
  return Math.max(1, policy.limit - 1);
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
  let top = 0;
  for (const unit of held) top = Math.max(top, recentStrikes(unit, policy, now));
  for (const unit of held) {
    if (recentStrikes(unit, policy, now) < top) {
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

/**
 * Each unit a takeover quarantined: logged, and one `stream.unmonitored` for its owner (an
 * active stream only), dated at the media time its last monitor reached.
 */
export async function announceQuarantined(
  sinks: AlarmSinks,
  quarantined: TakeOver['quarantined'],
  logger: Logger,
): Promise<void> {
  for (const { unit, why, strikes } of quarantined) {
    const log = logger.child({ streamId: unit.streamId, unitId: unit.unitId });
    log.error({ strikes, reason: why }, 'unit quarantined: not handed to another worker');
    const stream = await sinks.registry.streams.get(unit.streamId);
    if (stream?.state !== 'active') continue;
    const health = (await sinks.registry.health.getMany([unit.unitId])).get(unit.unitId);
    const event = unmonitoredEvent(
      stream,
      why,
      { state: 'quarantined', strikes, group: unit.group },
      health?.mediaTime ?? 0,
    );
    await recordAlarm(sinks, redactDeep(event), log).catch((e) =>
      log.error({ err: (e as Error).message }, 'could not record the quarantine alarm'),
    );
  }
}
