/**
 * Work units and their leases, one item each. A unit is either held (`holder`: the worker
 * running it) or waiting (`pool`, with the reason and since when). Every change of hands is one
 * conditional write, so two workers can never both hold a unit.
 */
import { createHash } from 'node:crypto';
import { DeleteCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DefectType } from '../events.js';
import type { Dynamo } from './dynamo.js';

/**
 * `pool` (the waiting index's partition key) is `waiting#<shard>`: a fleet-wide deploy releases
 * and claims every unit within minutes (~20,000 writes at 10,000 streams), more than one index
 * partition takes (about 1,000 writes a second), so the writes are spread over WAITING_SHARDS
 * partitions by unit id. Items written before sharding say plain `waiting`; they are still read
 * and claimed.
 */
const WAITING = 'waiting';
export const WAITING_SHARDS = 8;

/** The waiting index partition a unit waits in. */
export function waitingPool(unitId: string): string {
  return `${WAITING}#${createHash('sha1').update(unitId).digest().readUInt32BE(0) % WAITING_SHARDS}`;
}

/** Every partition of the waiting index, from a random shard; the unsharded one last. */
function waitingPools(): string[] {
  const start = Math.floor(Math.random() * WAITING_SHARDS);
  const shards = Array.from(
    { length: WAITING_SHARDS },
    (_, i) => `${WAITING}#${(start + i) % WAITING_SHARDS}`,
  );
  return [...shards, WAITING];
}

export interface UnitItem {
  unitId: string;
  streamId: string;
  group: string;
  detectors: DefectType[];
  createdAt: number;
  /** The fleet member (worker incarnation) running it. */
  holder?: string;
  heldSince?: number;
  /** `waiting#<shard>` while waiting (see waitingPool). */
  pool?: string;
  waitReason?: string;
  waitingSince?: number;
  /** Times a worker died while running it, counted within STRIKE_POLICY's window. */
  strikes?: number;
  lastStrikeAt?: number;
  /** Set when parked: neither held nor waiting, never claimed again (until the stream is deleted). */
  quarantined?: string;
  quarantinedAt?: number;
}

/** When the deaths of the workers running a unit park it instead of handing it on. */
export interface StrikePolicy {
  /** Worker deaths while running it that quarantine a unit. */
  limit: number;
  /** Deaths further apart than this do not add up. */
  windowMs: number;
}

export function unitId(streamId: string, group: string): string {
  return `${streamId}#${group}`;
}

export class UnitStore {
  constructor(private readonly db: Dynamo) {}

  private get table(): string {
    return this.db.tables.units;
  }

  /** Adds units, waiting for a worker. */
  async create(
    units: Array<Pick<UnitItem, 'streamId' | 'group' | 'detectors'>>,
    reason: string,
  ): Promise<void> {
    const now = Date.now();
    await this.db.batchWrite(
      this.table,
      units.map((u) => ({
        PutRequest: {
          Item: {
            ...u,
            unitId: unitId(u.streamId, u.group),
            createdAt: now,
            pool: waitingPool(unitId(u.streamId, u.group)),
            waitReason: reason,
            waitingSince: now,
          } satisfies UnitItem,
        },
      })),
    );
  }

  async remove(unitIds: string[]): Promise<void> {
    await this.db.batchWrite(
      this.table,
      unitIds.map((id) => ({ DeleteRequest: { Key: { unitId: id } } })),
    );
  }

  /** Deletes one unit if `holder` still holds it (a worker cleaning up after a deleted stream). */
  async removeHeld(id: string, holder: string): Promise<boolean> {
    return this.db.conditional(
      new DeleteCommand({
        TableName: this.table,
        Key: { unitId: id },
        ConditionExpression: 'holder = :h',
        ExpressionAttributeValues: { ':h': holder },
      }),
    );
  }

  async getMany(unitIds: string[]): Promise<UnitItem[]> {
    const keys = [...new Set(unitIds)].map((id) => ({ unitId: id }));
    return (await this.db.batchGet(this.table, keys, true)) as unknown as UnitItem[];
  }

  /**
   * Takes a waiting unit; the unit when this worker won it, null when it was not waiting (or, with
   * `probation`, when it is a prime suspect: `strikes` or more since `since` — a worker already
   * holding one takes no second, so the next death points at one unit; see takeOver.ts).
   */
  async claim(
    id: string,
    holder: string,
    probation?: { strikes: number; since: number },
  ): Promise<UnitItem | null> {
    try {
      const r = await this.db.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { unitId: id },
          UpdateExpression: 'SET holder = :h, heldSince = :now REMOVE #p, waitReason, waitingSince',
          ConditionExpression: `begins_with(#p, :waiting) AND attribute_not_exists(holder)${
            probation
              ? ' AND (attribute_not_exists(lastStrikeAt) OR lastStrikeAt < :since OR strikes < :prime)'
              : ''
          }`,
          ExpressionAttributeNames: { '#p': 'pool' },
          ExpressionAttributeValues: {
            ':h': holder,
            ':now': Date.now(),
            ':waiting': WAITING,
            ...(probation ? { ':since': probation.since, ':prime': probation.strikes } : {}),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return r.Attributes as UnitItem;
    } catch (e) {
      if ((e as Error).name === 'ConditionalCheckFailedException') return null;
      throw e;
    }
  }

  /**
   * Puts a unit back to waiting, if `holder` holds it: a worker releasing its own (drain, over
   * budget) or taking over a departed worker's. False when someone else holds it now.
   */
  async release(id: string, holder: string, reason: string): Promise<boolean> {
    return this.db.conditional(
      new UpdateCommand({
        TableName: this.table,
        Key: { unitId: id },
        UpdateExpression: 'SET #p = :waiting, waitReason = :r, waitingSince = :now REMOVE holder, heldSince',
        ConditionExpression: 'holder = :h',
        ExpressionAttributeNames: { '#p': 'pool' },
        ExpressionAttributeValues: {
          ':h': holder,
          ':waiting': waitingPool(id),
          ':r': reason,
          ':now': Date.now(),
        },
      }),
    );
  }

  /**
   * A departed worker's unit, counted against it: back to waiting with `reason`, or — at the
   * policy's limit of worker deaths within its window — quarantined (held by nobody, waiting for
   * nobody). One conditional write on `holder`: only one taker counts a death. The outcome, or
   * null when someone else holds the unit now.
   */
  async strike(
    unit: UnitItem,
    holder: string,
    reason: string,
    policy: StrikePolicy,
    now = Date.now(),
  ): Promise<{ outcome: 'waiting' | 'quarantined'; strikes: number; why: string } | null> {
    const recent = unit.lastStrikeAt !== undefined && now - unit.lastStrikeAt <= policy.windowMs;
    const strikes = (recent ? (unit.strikes ?? 0) : 0) + 1;
    const minutes = Math.round(policy.windowMs / 60_000);
    if (strikes >= policy.limit) {
      const why = `quarantined: ${strikes} workers stopped while running it within ${minutes} min (the last: ${reason})`;
      const applied = await this.db.conditional(
        new UpdateCommand({
          TableName: this.table,
          Key: { unitId: unit.unitId },
          UpdateExpression:
            'SET quarantined = :why, quarantinedAt = :now, strikes = :s, lastStrikeAt = :now REMOVE holder, heldSince, #p, waitReason, waitingSince',
          ConditionExpression: 'holder = :h',
          ExpressionAttributeNames: { '#p': 'pool' },
          ExpressionAttributeValues: { ':h': holder, ':why': why, ':now': now, ':s': strikes },
        }),
      );
      return applied ? { outcome: 'quarantined', strikes, why } : null;
    }
    const applied = await this.db.conditional(
      new UpdateCommand({
        TableName: this.table,
        Key: { unitId: unit.unitId },
        UpdateExpression:
          'SET #p = :waiting, waitReason = :r, waitingSince = :now, strikes = :s, lastStrikeAt = :now REMOVE holder, heldSince',
        ConditionExpression: 'holder = :h',
        ExpressionAttributeNames: { '#p': 'pool' },
        ExpressionAttributeValues: {
          ':h': holder,
          ':waiting': waitingPool(unit.unitId),
          ':r': reason,
          ':now': now,
          ':s': strikes,
        },
      }),
    );
    return applied ? { outcome: 'waiting', strikes, why: reason } : null;
  }

  /** Forgets a unit's strikes once it has run well (held by `holder`) for a while. */
  async absolve(id: string, holder: string): Promise<boolean> {
    return this.db.conditional(
      new UpdateCommand({
        TableName: this.table,
        Key: { unitId: id },
        UpdateExpression: 'REMOVE strikes, lastStrikeAt',
        ConditionExpression: 'holder = :h',
        ExpressionAttributeValues: { ':h': holder },
      }),
    );
  }

  /** Ids of the units a fleet member holds. */
  async heldBy(holder: string): Promise<string[]> {
    const items = await this.db.queryAll({
      TableName: this.table,
      IndexName: 'byHolder',
      KeyConditionExpression: 'holder = :h',
      ExpressionAttributeValues: { ':h': holder },
    });
    return items.map((i) => String(i.unitId));
  }

  /**
   * Up to `limit` waiting unit ids, from a random shard at a random point (`from`), so workers
   * looking at the same time mostly pick different units. An empty index costs 10 small queries.
   */
  async waiting(limit: number, from: string): Promise<string[]> {
    const page = async (pool: string, condition: string, want: number) =>
      (
        (
          await this.db.doc.send(
            new QueryCommand({
              TableName: this.table,
              IndexName: 'waiting',
              ...(condition
                ? {
                    KeyConditionExpression: `#p = :pool AND ${condition}`,
                    ExpressionAttributeNames: { '#p': 'pool', '#u': 'unitId' },
                    ExpressionAttributeValues: { ':pool': pool, ':from': from },
                  }
                : {
                    KeyConditionExpression: '#p = :pool',
                    ExpressionAttributeNames: { '#p': 'pool' },
                    ExpressionAttributeValues: { ':pool': pool },
                  }),
              Limit: want,
            }),
          )
        ).Items ?? []
      ).map((i) => String(i.unitId));
    // The first (random) shard is read from a random point and wrapped, so workers looking at the
    // same time mostly pick different units; the others from their start (one query each).
    const ids = new Set<string>();
    const [first, ...rest] = waitingPools();
    const reads: Array<[string, string]> = [
      [first, '#u >= :from'],
      [first, '#u < :from'],
      ...rest.map((pool): [string, string] => [pool, '']),
    ];
    for (const [pool, condition] of reads) {
      if (ids.size >= limit) break;
      for (const id of await page(pool, condition, limit - ids.size)) ids.add(id);
    }
    return [...ids].slice(0, limit);
  }

  /** How many units wait for a worker (reads only the waiting index: cheap while few wait). */
  async countWaiting(): Promise<number> {
    const counts = await Promise.all(
      waitingPools().map((pool) =>
        this.db.count({
          TableName: this.table,
          IndexName: 'waiting',
          KeyConditionExpression: '#p = :pool',
          ExpressionAttributeNames: { '#p': 'pool' },
          ExpressionAttributeValues: { ':pool': pool },
        }),
      ),
    );
    return counts.reduce((a, b) => a + b, 0);
  }
}
