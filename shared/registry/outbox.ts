/**
 * The publish outbox: events waiting to be delivered, with a delivery state per sink. An item is
 * due at `dueAt` (epoch ms), the earliest retry of a sink still pending; taking it for delivery
 * moves `dueAt` past the lock time, and the lock holder's write is conditional on that lock. An
 * item whose every sink took it is deleted; one with a sink that gave up is kept as a dead letter
 * (bucket `dead`) until replayed. Due items are found through the `due` index, spread over a few
 * buckets so no single key takes every worker's polls; never by a scan.
 */
import { createHash } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DefectEvent } from '../events.js';
import type { Dynamo } from './dynamo.js';

export const OUTBOX_BUCKETS = 4;
/** Sink name meaning "every sink of the worker that delivers it" (the dispatcher knows none). */
export const ALL_SINKS = '*';
const DEAD = 'dead';

export interface SinkDelivery {
  state: 'pending' | 'done' | 'dead';
  attempts: number;
  /** When this sink is tried next (pending only). */
  dueAt: number;
  lastError?: string;
}

export interface OutboxItem {
  id: string;
  bucket: string;
  event: DefectEvent;
  sinks: Record<string, SinkDelivery>;
  dueAt: number;
  createdAt: number;
}

function bucketOf(id: string): string {
  return `b${createHash('sha1').update(id).digest().readUInt8(0) % OUTBOX_BUCKETS}`;
}

export class OutboxStore {
  constructor(private readonly db: Dynamo) {}

  private get table(): string {
    return this.db.tables.outbox;
  }

  /** Queues an event for the named sinks; the id makes a repeated enqueue of one event a no-op. */
  async enqueue(
    event: DefectEvent,
    sinks: string[],
    id = `${event.dedupKey}#${event.state}`,
  ): Promise<string> {
    const now = Date.now();
    await this.db.conditional(
      new PutCommand({
        TableName: this.table,
        Item: {
          id,
          bucket: bucketOf(id),
          event,
          sinks: Object.fromEntries(sinks.map((s) => [s, { state: 'pending', attempts: 0, dueAt: 0 }])),
          dueAt: 0,
          createdAt: now,
        } satisfies OutboxItem,
        ConditionExpression: 'attribute_not_exists(id)',
      }),
    );
    return id;
  }

  /**
   * Ids in one partition of the `due` index (a bucket `b0`…, or `dead`), oldest due first;
   * with `dueBy`, only those due by then.
   */
  private async idsIn(bucket: string, limit: number, dueBy?: number): Promise<string[]> {
    const r = await this.db.doc.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: 'due',
        KeyConditionExpression: `#b = :b${dueBy === undefined ? '' : ' AND dueAt <= :by'}`,
        ExpressionAttributeNames: { '#b': 'bucket' },
        ExpressionAttributeValues: { ':b': bucket, ...(dueBy === undefined ? {} : { ':by': dueBy }) },
        Limit: limit,
      }),
    );
    return (r.Items ?? []).map((i) => String(i.id));
  }

  /** Ids of items in the buckets (all, or one of 0…OUTBOX_BUCKETS-1), up to `limit`. */
  private async idsInBuckets(limit: number, bucket?: number, dueBy?: number): Promise<string[]> {
    const buckets = bucket === undefined ? [...Array(OUTBOX_BUCKETS).keys()] : [bucket];
    const ids: string[] = [];
    for (const b of buckets) {
      if (ids.length >= limit) break;
      ids.push(...(await this.idsIn(`b${b}`, limit - ids.length, dueBy)));
    }
    return ids;
  }

  /** Ids of items due now, from one bucket (0…OUTBOX_BUCKETS-1) or, without one, from all. */
  due(limit: number, bucket?: number): Promise<string[]> {
    return this.idsInBuckets(limit, bucket, Date.now());
  }

  async get(id: string): Promise<OutboxItem | null> {
    const r = await this.db.doc.send(
      new GetCommand({ TableName: this.table, Key: { id }, ConsistentRead: true }),
    );
    return (r.Item as OutboxItem | undefined) ?? null;
  }

  /** Takes a due item for delivery so no other worker sends it meanwhile; null if not due. */
  async lock(id: string, seconds: number): Promise<OutboxItem | null> {
    const now = Date.now();
    try {
      const r = await this.db.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { id },
          UpdateExpression: 'SET dueAt = :until',
          ConditionExpression: 'attribute_exists(id) AND dueAt <= :now AND #b <> :dead',
          ExpressionAttributeNames: { '#b': 'bucket' },
          ExpressionAttributeValues: { ':until': now + seconds * 1000, ':now': now, ':dead': DEAD },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return r.Attributes as OutboxItem;
    } catch (e) {
      if ((e as Error).name === 'ConditionalCheckFailedException') return null;
      throw e;
    }
  }

  /**
   * Stores the outcome of a delivery round of a locked item (`lockedUntil` is its lock): deleted
   * when every sink took it, a dead letter when the rest gave up, else due at the next retry.
   * False when the lock had expired and someone else took the item meanwhile.
   */
  async settle(item: OutboxItem, lockedUntil: number): Promise<boolean> {
    const states = Object.values(item.sinks);
    const condition = {
      ConditionExpression: 'dueAt = :lock',
      ExpressionAttributeValues: { ':lock': lockedUntil },
    };
    if (states.every((s) => s.state === 'done'))
      return this.db.conditional(
        new DeleteCommand({ TableName: this.table, Key: { id: item.id }, ...condition }),
      );
    const pending = states.filter((s) => s.state === 'pending');
    const bucket = pending.length ? bucketOf(item.id) : DEAD;
    const dueAt = pending.length ? Math.min(...pending.map((s) => s.dueAt)) : Date.now();
    return this.db.conditional(
      new UpdateCommand({
        TableName: this.table,
        Key: { id: item.id },
        UpdateExpression: 'SET sinks = :s, #b = :b, dueAt = :d',
        ConditionExpression: condition.ConditionExpression,
        ExpressionAttributeNames: { '#b': 'bucket' },
        ExpressionAttributeValues: {
          ...condition.ExpressionAttributeValues,
          ':s': item.sinks,
          ':b': bucket,
          ':d': dueAt,
        },
      }),
    );
  }

  /**
   * The backlog, for the fleet check's metrics: events not yet taken by every sink (dead letters
   * aside; at most `cap` read), the age of the oldest, and the dead letters.
   */
  async backlog(
    cap = 1000,
  ): Promise<{ outboxDepth: number; outboxOldestSeconds: number; deadLetters: number }> {
    const ids = await this.idsInBuckets(cap);
    const items = (await this.db.batchGet(
      this.table,
      ids.map((id) => ({ id })),
    )) as unknown as OutboxItem[];
    const oldest = Math.min(Date.now(), ...items.map((i) => i.createdAt ?? Date.now()));
    const deadLetters = await this.db.count({
      TableName: this.table,
      IndexName: 'due',
      KeyConditionExpression: '#b = :dead',
      ExpressionAttributeNames: { '#b': 'bucket' },
      ExpressionAttributeValues: { ':dead': DEAD },
    });
    return {
      outboxDepth: ids.length,
      outboxOldestSeconds: Math.round((Date.now() - oldest) / 1000),
      deadLetters,
    };
  }

  /** Dead letters, oldest first. */
  async deadLetters(limit = 100): Promise<OutboxItem[]> {
    const ids = (await this.idsIn(DEAD, limit)).map((id) => ({ id }));
    return (await this.db.batchGet(this.table, ids, true)) as unknown as OutboxItem[];
  }

  /** Puts a dead letter's given-up sinks (or one of them) back to pending: delivered again soon. */
  async replay(id: string, sink?: string): Promise<boolean> {
    const item = await this.get(id);
    if (!item || item.bucket !== DEAD) return false;
    for (const [name, s] of Object.entries(item.sinks))
      if (s.state === 'dead' && (!sink || sink === name))
        item.sinks[name] = { state: 'pending', attempts: 0, dueAt: 0 };
    if (!Object.values(item.sinks).some((s) => s.state === 'pending')) return false;
    return this.db.conditional(
      new UpdateCommand({
        TableName: this.table,
        Key: { id },
        UpdateExpression: 'SET sinks = :s, #b = :b, dueAt = :zero',
        ConditionExpression: '#b = :dead',
        ExpressionAttributeNames: { '#b': 'bucket' },
        ExpressionAttributeValues: { ':s': item.sinks, ':b': bucketOf(id), ':zero': 0, ':dead': DEAD },
      }),
    );
  }
}
