/**
 * The publish outbox: events waiting to be delivered. An item is due at `dueAt` (epoch ms);
 * taking it for delivery moves `dueAt` past the lock time, a failure moves it to the retry time,
 * delivery deletes it. Due items are found through the `due` index, spread over a few buckets so
 * no single key takes every worker's polls.
 */
import { createHash } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DefectEvent } from '../events.js';
import type { Dynamo } from './dynamo.js';

export const OUTBOX_BUCKETS = 4;

export interface OutboxItem {
  id: string;
  bucket: string;
  event: DefectEvent;
  attempts: number;
  dueAt: number;
}

function bucketOf(id: string): string {
  return `b${createHash('sha1').update(id).digest().readUInt8(0) % OUTBOX_BUCKETS}`;
}

export class OutboxStore {
  constructor(private readonly db: Dynamo) {}

  private get table(): string {
    return this.db.tables.outbox;
  }

  /** Queues an event for delivery; the id makes a repeated enqueue of one event a no-op. */
  async enqueue(event: DefectEvent, id = `${event.dedupKey}#${event.state}`): Promise<string> {
    await this.db.conditional(
      new PutCommand({
        TableName: this.table,
        Item: { id, bucket: bucketOf(id), event, attempts: 0, dueAt: 0 } satisfies OutboxItem,
        ConditionExpression: 'attribute_not_exists(id)',
      }),
    );
    return id;
  }

  /** Ids of items due now, from one bucket (0…OUTBOX_BUCKETS-1) or, without one, from all. */
  async due(limit: number, bucket?: number): Promise<string[]> {
    const buckets = bucket === undefined ? [...Array(OUTBOX_BUCKETS).keys()] : [bucket];
    const ids: string[] = [];
    for (const b of buckets) {
      if (ids.length >= limit) break;
      const r = await this.db.doc.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: 'due',
          KeyConditionExpression: '#b = :b AND dueAt <= :now',
          ExpressionAttributeNames: { '#b': 'bucket' },
          ExpressionAttributeValues: { ':b': `b${b}`, ':now': Date.now() },
          Limit: limit - ids.length,
        }),
      );
      ids.push(...(r.Items ?? []).map((i) => String(i.id)));
    }
    return ids;
  }

  async get(id: string): Promise<OutboxItem | null> {
    const r = await this.db.doc.send(
      new GetCommand({ TableName: this.table, Key: { id }, ConsistentRead: true }),
    );
    return (r.Item as OutboxItem | undefined) ?? null;
  }

  /** Takes an item for delivery so no other worker sends it at the same time; null if not due. */
  async lock(id: string, seconds: number): Promise<OutboxItem | null> {
    const now = Date.now();
    try {
      const r = await this.db.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { id },
          UpdateExpression: 'SET dueAt = :until',
          ConditionExpression: 'attribute_exists(id) AND dueAt <= :now',
          ExpressionAttributeValues: { ':until': now + seconds * 1000, ':now': now },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return r.Attributes as OutboxItem;
    } catch (e) {
      if ((e as Error).name === 'ConditionalCheckFailedException') return null;
      throw e;
    }
  }

  async complete(id: string): Promise<void> {
    await this.db.doc.send(new DeleteCommand({ TableName: this.table, Key: { id } }));
  }

  async retry(id: string, attempts: number, delaySeconds: number): Promise<void> {
    await this.db.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { id },
        UpdateExpression: 'SET attempts = :a, dueAt = :d',
        ConditionExpression: 'attribute_exists(id)',
        ExpressionAttributeValues: { ':a': attempts, ':d': Date.now() + delaySeconds * 1000 },
      }),
    );
  }
}
