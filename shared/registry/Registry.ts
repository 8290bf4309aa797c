/**
 * The registry: every read and write of streams, work units, leases, defect events, open alarms
 * and the publish outbox goes through here, over the AWS SDK's DynamoDB client. Locally the same
 * code talks to the embedded DynamoDB-compatible store.
 */
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { RegistryConfig } from '../config.js';
import type { DefectEvent, DefectType } from '../events.js';
import type { StreamHealth, StreamRecord } from '../streamSpec.js';
import {
  TABLE_DEFINITIONS,
  TABLE_NAMES,
  type TableNames,
  TTL_ATTRIBUTE,
  TTL_TABLES,
  tableNames,
} from './tables.js';

/** How long defect events are kept, seconds. */
export const EVENT_RETENTION_SECONDS = 7 * 24 * 3600;
const IDEMPOTENCY_SECONDS = 24 * 3600;
/** Leases-table item whose counter changes whenever work units are added or removed. */
const UNITS_VERSION_ID = 'meta#units';

export interface WorkerHeartbeat {
  workerId: string;
  heartbeatAt: number;
  load: number;
  budget: number;
  full: boolean;
  draining: boolean;
}

/** Who holds a shard. A lease lives as long as its holder's heartbeat does. */
export interface ShardLease {
  shard: number;
  workerId: string;
}

export interface UnitItem {
  shard: number;
  unitId: string;
  streamId: string;
  group: string;
  detectors: DefectType[];
}

export interface OpenAlarmItem {
  streamId: string;
  type: DefectType;
  dedupKey: string;
  start: number;
  wallStart?: string;
  event: DefectEvent;
}

export interface OutboxItem {
  id: string;
  event: DefectEvent;
  attempts: number;
  nextAttemptAt: number;
  lockedUntil: number;
}

function isConditionFailure(e: unknown): boolean {
  return (
    e instanceof ConditionalCheckFailedException || (e as Error)?.name === 'ConditionalCheckFailedException'
  );
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

export class Registry {
  readonly doc: DynamoDBDocumentClient;
  readonly client: DynamoDBClient;
  readonly tables: TableNames;

  constructor(config: RegistryConfig, env: Record<string, string | undefined> = process.env) {
    this.client = new DynamoDBClient({
      region: config.region,
      endpoint: config.endpoint,
      // The embedded store accepts any credentials; on AWS the default provider chain applies.
      ...(config.endpoint ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
      maxAttempts: 5,
    });
    this.doc = DynamoDBDocumentClient.from(this.client, {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    });
    this.tables = tableNames(config.tablePrefix, env);
  }

  /** Creates missing tables (local mode; on AWS the CDK stack owns them). */
  async ensureTables(): Promise<void> {
    for (const name of TABLE_NAMES) {
      const TableName = this.tables[name];
      try {
        await this.client.send(
          new CreateTableCommand({ TableName, BillingMode: 'PAY_PER_REQUEST', ...TABLE_DEFINITIONS[name] }),
        );
      } catch (e) {
        if (!(e instanceof ResourceInUseException) && (e as Error).name !== 'ResourceInUseException') throw e;
      }
      for (let i = 0; i < 100; i++) {
        const d = await this.client.send(new DescribeTableCommand({ TableName }));
        if (d.Table?.TableStatus === 'ACTIVE') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      if (TTL_TABLES.includes(name)) {
        try {
          await this.client.send(
            new UpdateTimeToLiveCommand({
              TableName,
              TimeToLiveSpecification: { Enabled: true, AttributeName: TTL_ATTRIBUTE },
            }),
          );
        } catch {
          // The embedded store has no TTL: expired items are filtered on read instead.
        }
      }
    }
  }

  destroy(): void {
    this.doc.destroy();
    this.client.destroy();
  }

  // ---- streams -------------------------------------------------------------------------------

  /**
   * Stores a new stream and its work units. With an idempotency key, a retry returns the stream
   * the first call created (created=false) instead of creating a second one.
   */
  async createStream(
    record: StreamRecord,
    idempotency?: { key: string; bodyHash: string },
  ): Promise<{ record: StreamRecord; created: boolean; conflict?: boolean }> {
    if (idempotency) {
      const claim = await this.claimIdempotencyKey(
        `${record.owner}#${idempotency.key}`,
        record.id,
        idempotency.bodyHash,
      );
      if (claim !== 'mine')
        return claim === 'conflict'
          ? { record, created: false, conflict: true }
          : { record: claim, created: false };
    }
    // Units first, the stream record last: the stream's put is the commit point. A crash in
    // between leaves units without a stream, which workers ignore; never a stream without units.
    await this.batchWrite(
      this.tables.units,
      record.units.map((u) => ({
        PutRequest: {
          Item: {
            shard: u.shard,
            unitId: `${record.id}#${u.group}`,
            streamId: record.id,
            group: u.group,
            detectors: u.detectors,
          } satisfies UnitItem,
        },
      })),
    );
    await this.doc.send(
      new PutCommand({
        TableName: this.tables.streams,
        Item: record,
        ConditionExpression: 'attribute_not_exists(id)',
      }),
    );
    await this.bumpUnitsVersion();
    return { record, created: true };
  }

  /**
   * Claims an idempotency key for a new stream id. Returns 'mine' to go ahead, the stream an
   * earlier request with the same key and body created, or 'conflict' for a different body. A key
   * whose first request died before committing its stream is taken over after a short wait.
   */
  private async claimIdempotencyKey(
    key: string,
    streamId: string,
    bodyHash: string,
  ): Promise<'mine' | 'conflict' | StreamRecord> {
    const put = (condition: string, names: Record<string, string>, values: Record<string, unknown>) =>
      this.doc.send(
        new PutCommand({
          TableName: this.tables.idempotency,
          Item: { key, streamId, bodyHash, [TTL_ATTRIBUTE]: nowSeconds() + IDEMPOTENCY_SECONDS },
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    try {
      await put(
        'attribute_not_exists(#k) OR #e < :now',
        { '#k': 'key', '#e': TTL_ATTRIBUTE },
        { ':now': nowSeconds() },
      );
      return 'mine';
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
    }
    const prior = await this.doc.send(
      new GetCommand({ TableName: this.tables.idempotency, Key: { key }, ConsistentRead: true }),
    );
    if (!prior.Item) return this.claimIdempotencyKey(key, streamId, bodyHash);
    if (prior.Item.bodyHash !== bodyHash) return 'conflict';
    // The first request may still be writing its stream: wait briefly for it.
    for (let i = 0; i < 50; i++) {
      const existing = await this.getStream(String(prior.Item.streamId));
      if (existing) return existing;
      await new Promise((r) => setTimeout(r, 20));
    }
    try {
      await put('#s = :prior', { '#s': 'streamId' }, { ':prior': prior.Item.streamId });
      return 'mine';
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      return this.claimIdempotencyKey(key, streamId, bodyHash);
    }
  }

  async getStream(id: string): Promise<StreamRecord | null> {
    const r = await this.doc.send(
      new GetCommand({ TableName: this.tables.streams, Key: { id }, ConsistentRead: true }),
    );
    return (r.Item as StreamRecord | undefined) ?? null;
  }

  /** A page of an owner's active streams, oldest first; `cursor` continues a previous page. */
  async listStreams(
    owner: string,
    limit: number,
    cursor?: string,
  ): Promise<{ items: StreamRecord[]; cursor?: string }> {
    const items: StreamRecord[] = [];
    let start: Record<string, unknown> | undefined = cursor ? decodeCursor(cursor) : undefined;
    do {
      const r = await this.doc.send(
        new QueryCommand({
          TableName: this.tables.streams,
          IndexName: 'byOwner',
          KeyConditionExpression: '#o = :o',
          FilterExpression: '#s = :active',
          ExpressionAttributeNames: { '#o': 'owner', '#s': 'state' },
          ExpressionAttributeValues: { ':o': owner, ':active': 'active' },
          Limit: limit - items.length,
          ExclusiveStartKey: start,
        }),
      );
      items.push(...((r.Items ?? []) as StreamRecord[]));
      start = r.LastEvaluatedKey;
    } while (start && items.length < limit);
    return { items, cursor: start ? encodeCursor(start) : undefined };
  }

  /** Marks a stream deleted (only by its owner) and removes its work units; false if not found. */
  async deleteStream(id: string, owner: string): Promise<StreamRecord | null> {
    let record: StreamRecord;
    try {
      const r = await this.doc.send(
        new UpdateCommand({
          TableName: this.tables.streams,
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
      if (isConditionFailure(e)) return null;
      throw e;
    }
    await this.batchWrite(
      this.tables.units,
      record.units.map((u) => ({ DeleteRequest: { Key: { shard: u.shard, unitId: `${id}#${u.group}` } } })),
    );
    await this.bumpUnitsVersion();
    return record;
  }

  /** Records how a worker's run of one unit is going (shown in GET /streams/{id}). */
  async updateHealth(streamId: string, group: string, health: StreamHealth): Promise<void> {
    const setGroup = () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tables.streams,
          Key: { id: streamId },
          UpdateExpression: 'SET health.#g = :h',
          ConditionExpression: 'attribute_exists(id)',
          ExpressionAttributeNames: { '#g': group },
          ExpressionAttributeValues: { ':h': health },
        }),
      );
    try {
      await setGroup();
    } catch (e) {
      if (isConditionFailure(e)) return;
      if ((e as Error).name !== 'ValidationException') throw e;
      // First report for this stream: the health map does not exist yet (one extra write, once).
      await this.doc
        .send(
          new UpdateCommand({
            TableName: this.tables.streams,
            Key: { id: streamId },
            UpdateExpression: 'SET health = if_not_exists(health, :empty)',
            ConditionExpression: 'attribute_exists(id)',
            ExpressionAttributeValues: { ':empty': {} },
          }),
        )
        .catch((err) => {
          if (!isConditionFailure(err)) throw err;
        });
      await setGroup().catch((err) => {
        if (!isConditionFailure(err)) throw err;
      });
    }
  }

  /** Counts units of active streams (what the dispatcher sizes the worker fleet by). */
  async countUnits(): Promise<number> {
    let count = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const r = await this.doc.send(
        new ScanCommand({ TableName: this.tables.units, Select: 'COUNT', ExclusiveStartKey: start }),
      );
      count += r.Count ?? 0;
      start = r.LastEvaluatedKey;
    } while (start);
    return count;
  }

  async unitsInShard(shard: number): Promise<UnitItem[]> {
    const out: UnitItem[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const r = await this.doc.send(
        new QueryCommand({
          TableName: this.tables.units,
          KeyConditionExpression: '#shard = :s',
          ExpressionAttributeNames: { '#shard': 'shard' },
          ExpressionAttributeValues: { ':s': shard },
          ExclusiveStartKey: start,
        }),
      );
      out.push(...((r.Items ?? []) as UnitItem[]));
      start = r.LastEvaluatedKey;
    } while (start);
    return out;
  }

  // ---- workers and leases --------------------------------------------------------------------

  async heartbeat(beat: WorkerHeartbeat, ttlSeconds: number): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tables.leases,
        Item: { id: `worker#${beat.workerId}`, ...beat, expiresAt: Date.now() + ttlSeconds * 1000 },
      }),
    );
  }

  async removeWorker(workerId: string): Promise<void> {
    await this.doc.send(
      new DeleteCommand({ TableName: this.tables.leases, Key: { id: `worker#${workerId}` } }),
    );
  }

  /**
   * Live workers, shard leases and the units version, in one scan of the (small) leases table.
   * A lease whose holder has no live heartbeat is free to take.
   */
  async leaseSnapshot(): Promise<{ workers: WorkerHeartbeat[]; leases: ShardLease[]; unitsVersion: number }> {
    const workers: WorkerHeartbeat[] = [];
    const leases: ShardLease[] = [];
    let unitsVersion = 0;
    const now = Date.now();
    let start: Record<string, unknown> | undefined;
    do {
      const r = await this.doc.send(
        new ScanCommand({ TableName: this.tables.leases, ConsistentRead: true, ExclusiveStartKey: start }),
      );
      for (const item of r.Items ?? []) {
        const id = String(item.id);
        if (id === UNITS_VERSION_ID) unitsVersion = Number(item.version ?? 0);
        else if (id.startsWith('worker#')) {
          if (Number(item.expiresAt) >= now) workers.push(item as unknown as WorkerHeartbeat);
        } else leases.push({ shard: Number(item.shard), workerId: String(item.workerId) });
      }
      start = r.LastEvaluatedKey;
    } while (start);
    return { workers, leases, unitsVersion };
  }

  /**
   * Takes a shard that is free (no lease) or whose holder `previous` is gone. The condition on the
   * previous holder makes two workers racing for one shard impossible: one write wins.
   */
  async claimShard(shard: number, workerId: string, previous: string | null): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tables.leases,
          Item: { id: `shard#${shard}`, shard, workerId },
          ConditionExpression: previous ? 'workerId = :prev' : 'attribute_not_exists(id)',
          ...(previous ? { ExpressionAttributeValues: { ':prev': previous } } : {}),
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  /** Tells workers that streams were added or removed, so they re-read their shards' units. */
  async bumpUnitsVersion(): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tables.leases,
        Key: { id: UNITS_VERSION_ID },
        UpdateExpression: 'ADD #v :one',
        ExpressionAttributeNames: { '#v': 'version' },
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
  }

  async releaseShard(shard: number, workerId: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tables.leases,
          Key: { id: `shard#${shard}` },
          ConditionExpression: 'workerId = :me',
          ExpressionAttributeValues: { ':me': workerId },
        }),
      );
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
    }
  }

  /** The live worker holding a shard, or null. */
  async shardOwner(shard: number): Promise<string | null> {
    const r = await this.doc.send(
      new GetCommand({ TableName: this.tables.leases, Key: { id: `shard#${shard}` }, ConsistentRead: true }),
    );
    if (!r.Item) return null;
    const workerId = String(r.Item.workerId);
    const beat = await this.doc.send(
      new GetCommand({
        TableName: this.tables.leases,
        Key: { id: `worker#${workerId}` },
        ConsistentRead: true,
      }),
    );
    return beat.Item && Number(beat.Item.expiresAt) >= Date.now() ? workerId : null;
  }

  // ---- events, alarms, outbox ----------------------------------------------------------------

  /** Keeps an event in the stream's history (newest-first listing, expires after retention). */
  async recordEvent(event: DefectEvent): Promise<void> {
    const at = `${new Date().toISOString()}#${event.dedupKey}#${event.state}`;
    await this.doc.send(
      new PutCommand({
        TableName: this.tables.events,
        Item: {
          streamId: event.streamId,
          at,
          event,
          [TTL_ATTRIBUTE]: nowSeconds() + EVENT_RETENTION_SECONDS,
        },
      }),
    );
  }

  async recentEvents(streamId: string, limit: number): Promise<DefectEvent[]> {
    const r = await this.doc.send(
      new QueryCommand({
        TableName: this.tables.events,
        KeyConditionExpression: 'streamId = :s',
        ExpressionAttributeValues: { ':s': streamId },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    const now = nowSeconds();
    return (r.Items ?? []).filter((i) => Number(i[TTL_ATTRIBUTE]) >= now).map((i) => i.event as DefectEvent);
  }

  /** Opens an alarm; false if one with this type is already open (so it is not raised twice). */
  async openAlarm(event: DefectEvent): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tables.alarms,
          Item: {
            streamId: event.streamId,
            type: event.type,
            dedupKey: event.dedupKey,
            start: event.start,
            wallStart: event.wallStart,
            event,
          } satisfies OpenAlarmItem,
          ConditionExpression: 'attribute_not_exists(streamId)',
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  /** Closes an open alarm; false if it was not open (already cleared by someone else). */
  async closeAlarm(streamId: string, type: string, dedupKey: string): Promise<boolean> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tables.alarms,
          Key: { streamId, type },
          ConditionExpression: 'dedupKey = :k',
          ExpressionAttributeValues: { ':k': dedupKey },
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  async openAlarms(streamId: string): Promise<OpenAlarmItem[]> {
    const r = await this.doc.send(
      new QueryCommand({
        TableName: this.tables.alarms,
        KeyConditionExpression: 'streamId = :s',
        ExpressionAttributeValues: { ':s': streamId },
        ConsistentRead: true,
      }),
    );
    return (r.Items ?? []) as OpenAlarmItem[];
  }

  /** Every open alarm (for the periodic re-send); a scan, fine for the alarm table's size. */
  async allOpenAlarms(): Promise<OpenAlarmItem[]> {
    const out: OpenAlarmItem[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const r = await this.doc.send(
        new ScanCommand({ TableName: this.tables.alarms, ExclusiveStartKey: start }),
      );
      out.push(...((r.Items ?? []) as OpenAlarmItem[]));
      start = r.LastEvaluatedKey;
    } while (start);
    return out;
  }

  /** Queues an event for delivery; the id makes a repeated enqueue of one event a no-op. */
  async enqueue(event: DefectEvent, id = `${event.dedupKey}#${event.state}`): Promise<string> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tables.outbox,
          Item: { id, event, attempts: 0, nextAttemptAt: 0, lockedUntil: 0 } satisfies OutboxItem,
          ConditionExpression: 'attribute_not_exists(id)',
        }),
      );
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
    }
    return id;
  }

  /** Outbox items ready for another delivery attempt. */
  async dueOutbox(limit: number): Promise<OutboxItem[]> {
    const now = Date.now();
    const r = await this.doc.send(
      new ScanCommand({
        TableName: this.tables.outbox,
        FilterExpression: 'nextAttemptAt <= :now AND lockedUntil <= :now',
        ExpressionAttributeValues: { ':now': now },
        Limit: 200,
      }),
    );
    return ((r.Items ?? []) as OutboxItem[]).slice(0, limit);
  }

  /** Takes an outbox item for delivery so no other worker sends it at the same time. */
  async lockOutbox(id: string, seconds: number): Promise<OutboxItem | null> {
    const now = Date.now();
    try {
      const r = await this.doc.send(
        new UpdateCommand({
          TableName: this.tables.outbox,
          Key: { id },
          UpdateExpression: 'SET lockedUntil = :until',
          ConditionExpression: 'attribute_exists(id) AND lockedUntil <= :now',
          ExpressionAttributeValues: { ':until': now + seconds * 1000, ':now': now },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return r.Attributes as OutboxItem;
    } catch (e) {
      if (isConditionFailure(e)) return null;
      throw e;
    }
  }

  async completeOutbox(id: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tables.outbox, Key: { id } }));
  }

  async retryOutbox(id: string, attempts: number, delaySeconds: number): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tables.outbox,
        Key: { id },
        UpdateExpression: 'SET attempts = :a, nextAttemptAt = :n, lockedUntil = :z',
        ExpressionAttributeValues: { ':a': attempts, ':n': Date.now() + delaySeconds * 1000, ':z': 0 },
      }),
    );
  }

  private async batchWrite(table: string, requests: Record<string, unknown>[]): Promise<void> {
    for (let i = 0; i < requests.length; i += 25) {
      let pending: Record<string, unknown>[] | undefined = requests.slice(i, i + 25);
      for (let attempt = 0; pending && pending.length > 0; attempt++) {
        const r = await this.doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending as never } }));
        pending = r.UnprocessedItems?.[table] as Record<string, unknown>[] | undefined;
        if (pending?.length) await new Promise((res) => setTimeout(res, Math.min(1000, 25 * 2 ** attempt)));
      }
    }
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
