/**
 * Streams and their idempotency keys. A stream item changes only when it is registered or
 * deleted (health lives in its own table), so the owner index costs one write per registration.
 */
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { StreamRecord } from '../streamSpec.js';
import { type Dynamo, nowSeconds } from './dynamo.js';
import { TTL_ATTRIBUTE } from './tables.js';
import { type UnitStore, unitId } from './units.js';

const IDEMPOTENCY_SECONDS = 24 * 3600;
/**
 * A request holding an idempotency key for longer than this has died (API requests time out at
 * 30 s): its key may be taken over. Before that, a retry is told the first is still in progress.
 */
const IDEMPOTENCY_TAKEOVER_SECONDS = 60;

export type CreateResult =
  | { outcome: 'created'; record: StreamRecord }
  | { outcome: 'replayed'; record: StreamRecord }
  | { outcome: 'conflict' }
  | { outcome: 'in-progress' };

export class StreamStore {
  constructor(
    private readonly db: Dynamo,
    private readonly units: UnitStore,
  ) {}

  /**
   * Stores a new stream and its work units (waiting for a worker). With an idempotency key, a
   * retry gets the stream the first call created instead of a second one; a retry while the
   * first call is still working is told so, never given a stream of its own.
   */
  async create(record: StreamRecord, idempotency?: { key: string; bodyHash: string }): Promise<CreateResult> {
    if (idempotency) {
      const claim = await this.claimKey(
        `${record.owner}#${idempotency.key}`,
        record.id,
        idempotency.bodyHash,
      );
      if (claim !== 'mine') return claim;
    }
    // Units first, the stream last: the stream's put is the commit point. A crash in between
    // leaves units without a stream, which workers delete when they find them; never a stream
    // without units. (dynalite has no transactions; see docs/aws.md "Registry and scale".)
    await this.units.create(
      record.units.map((u) => ({ streamId: record.id, group: u.group, detectors: u.detectors })),
      'registered; waiting for a worker with room',
    );
    await this.db.doc.send(
      new PutCommand({
        TableName: this.db.tables.streams,
        Item: record,
        ConditionExpression: 'attribute_not_exists(id)',
      }),
    );
    return { outcome: 'created', record };
  }

  private async claimKey(
    key: string,
    streamId: string,
    bodyHash: string,
  ): Promise<'mine' | Exclude<CreateResult, { outcome: 'created' }>> {
    const table = this.db.tables.idempotency;
    const item = {
      key,
      streamId,
      bodyHash,
      claimedAt: Date.now(),
      [TTL_ATTRIBUTE]: nowSeconds() + IDEMPOTENCY_SECONDS,
    };
    const fresh = await this.db.conditional(
      new PutCommand({
        TableName: table,
        Item: item,
        ConditionExpression: 'attribute_not_exists(#k) OR #e < :now',
        ExpressionAttributeNames: { '#k': 'key', '#e': TTL_ATTRIBUTE },
        ExpressionAttributeValues: { ':now': nowSeconds() },
      }),
    );
    if (fresh) return 'mine';
    const prior = (
      await this.db.doc.send(new GetCommand({ TableName: table, Key: { key }, ConsistentRead: true }))
    ).Item;
    if (!prior) return this.claimKey(key, streamId, bodyHash);
    if (prior.bodyHash !== bodyHash) return { outcome: 'conflict' };
    const existing = await this.get(String(prior.streamId));
    if (existing) return { outcome: 'replayed', record: existing };
    if (Date.now() - Number(prior.claimedAt ?? 0) < IDEMPOTENCY_TAKEOVER_SECONDS * 1000)
      return { outcome: 'in-progress' };
    // The first request died before committing its stream: take the key over (one winner).
    const tookOver = await this.db.conditional(
      new PutCommand({
        TableName: table,
        Item: item,
        ConditionExpression: 'streamId = :prior',
        ExpressionAttributeValues: { ':prior': prior.streamId },
      }),
    );
    return tookOver ? 'mine' : this.claimKey(key, streamId, bodyHash);
  }

  /** A query of the owner index (keys only) for one owner's streams. */
  private byOwner(owner: string) {
    return {
      TableName: this.db.tables.streams,
      IndexName: 'byOwner',
      KeyConditionExpression: '#o = :o',
      ExpressionAttributeNames: { '#o': 'owner' },
      ExpressionAttributeValues: { ':o': owner },
    };
  }

  /** Whether an owner's idempotency key was used before (its request is a retry, not a new one). */
  async keyUsed(owner: string, key: string): Promise<boolean> {
    const r = await this.db.doc.send(
      new GetCommand({ TableName: this.db.tables.idempotency, Key: { key: `${owner}#${key}` } }),
    );
    return Boolean(r.Item && Number(r.Item[TTL_ATTRIBUTE]) >= nowSeconds());
  }

  /**
   * An owner's active streams, counted up to `enough` (the quota): the owner index counts every
   * stream ever registered in one cheap query; only an owner near the quota has the deleted ones
   * told apart by reading the records.
   */
  async activeCount(owner: string, enough: number): Promise<number> {
    let total = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const r = await this.db.doc.send(
        new QueryCommand({ ...this.byOwner(owner), Select: 'COUNT', ExclusiveStartKey: start }),
      );
      total += r.Count ?? 0;
      start = r.LastEvaluatedKey;
    } while (start);
    if (total < enough) return total;
    let active = 0;
    let cursor: string | undefined;
    do {
      const page = await this.list(owner, 100, cursor);
      active += page.items.length;
      cursor = page.cursor;
    } while (cursor && active < enough);
    return active;
  }

  /**
   * Counts one registration of an owner in the current minute; false (and nothing counted) when
   * the owner has had `perMinute` already. One item per owner and minute, expiring by itself.
   */
  async countRegistration(owner: string, perMinute: number): Promise<boolean> {
    const minute = Math.floor(Date.now() / 60_000);
    return this.db.conditional(
      new UpdateCommand({
        TableName: this.db.tables.idempotency,
        Key: { key: `quota:registrations#${owner}#${minute}` },
        UpdateExpression: 'ADD #n :one SET #e = :expires',
        ConditionExpression: 'attribute_not_exists(#n) OR #n < :limit',
        ExpressionAttributeNames: { '#n': 'count', '#e': TTL_ATTRIBUTE },
        ExpressionAttributeValues: { ':one': 1, ':limit': perMinute, ':expires': nowSeconds() + 180 },
      }),
    );
  }

  async get(id: string): Promise<StreamRecord | null> {
    const r = await this.db.doc.send(
      new GetCommand({ TableName: this.db.tables.streams, Key: { id }, ConsistentRead: true }),
    );
    return (r.Item as StreamRecord | undefined) ?? null;
  }

  /** Several streams by id (missing ones left out). */
  async getMany(ids: string[]): Promise<StreamRecord[]> {
    const keys = [...new Set(ids)].map((id) => ({ id }));
    return (await this.db.batchGet(this.db.tables.streams, keys, true)) as unknown as StreamRecord[];
  }

  /** A page of an owner's active streams, oldest first; `cursor` continues a previous page. */
  async list(
    owner: string,
    limit: number,
    cursor?: string,
  ): Promise<{ items: StreamRecord[]; cursor?: string }> {
    const items: StreamRecord[] = [];
    let start: Record<string, unknown> | undefined = cursor ? decodeCursor(cursor) : undefined;
    do {
      const r = await this.db.doc.send(
        new QueryCommand({ ...this.byOwner(owner), Limit: limit - items.length, ExclusiveStartKey: start }),
      );
      const ids = (r.Items ?? []).map((i) => String(i.id));
      const records = new Map((await this.getMany(ids)).map((s) => [s.id, s]));
      for (const id of ids) {
        const s = records.get(id);
        if (s?.state === 'active') items.push(s);
      }
      start = r.LastEvaluatedKey;
    } while (start && items.length < limit);
    return { items, cursor: start ? encodeCursor(start) : undefined };
  }

  /** Marks a stream deleted (only by its owner) and removes its work units; null if not found. */
  async delete(id: string, owner: string): Promise<StreamRecord | null> {
    let record: StreamRecord;
    try {
      const r = await this.db.doc.send(
        new UpdateCommand({
          TableName: this.db.tables.streams,
          Key: { id },
          UpdateExpression: 'SET #s = :deleted, updatedAt = :now',
          ConditionExpression: 'attribute_exists(id) AND #o = :owner AND #s = :active',
          ExpressionAttributeNames: { '#s': 'state', '#o': 'owner' },
          ExpressionAttributeValues: {
            ':deleted': 'deleted',
            ':active': 'active',
            ':owner': owner,
            ':now': new Date().toISOString(),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      record = r.Attributes as StreamRecord;
    } catch (e) {
      if ((e as Error).name === 'ConditionalCheckFailedException') return null;
      throw e;
    }
    // Its worker sees the unit gone on its next tick and stops it.
    await this.units.remove(record.units.map((u) => unitId(id, u.group)));
    return record;
  }
}

function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** Decodes a pagination cursor; throws on anything that is not one of ours. */
export function decodeCursor(cursor: string): Record<string, unknown> {
  const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('bad cursor');
  for (const v of Object.values(parsed)) if (typeof v !== 'string') throw new Error('bad cursor');
  return parsed as Record<string, unknown>;
}
