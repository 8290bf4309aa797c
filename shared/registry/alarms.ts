/**
 * Open alarms (one per stream and defect type: the conditional put and delete decide who raises
 * and clears) and each stream's event history (newest first, expiring after the retention).
 */
import { DeleteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DefectEvent, DefectType } from '../events.js';
import { type Dynamo, nowSeconds } from './dynamo.js';
import { TTL_ATTRIBUTE } from './tables.js';

/** How long defect events are kept, seconds. */
export const EVENT_RETENTION_SECONDS = 7 * 24 * 3600;

export interface OpenAlarmItem {
  streamId: string;
  type: DefectType;
  dedupKey: string;
  start: number;
  wallStart?: string;
  event: DefectEvent;
}

export class AlarmStore {
  constructor(private readonly db: Dynamo) {}

  /** Opens an alarm; false if one of this type is already open (so it is not raised twice). */
  async open(event: DefectEvent): Promise<boolean> {
    return this.db.conditional(
      new PutCommand({
        TableName: this.db.tables.alarms,
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
  }

  /** Closes an open alarm; false if it was not open (already cleared by someone else). */
  async close(streamId: string, type: string, dedupKey: string): Promise<boolean> {
    return this.db.conditional(
      new DeleteCommand({
        TableName: this.db.tables.alarms,
        Key: { streamId, type },
        ConditionExpression: 'dedupKey = :k',
        ExpressionAttributeValues: { ':k': dedupKey },
      }),
    );
  }

  async openFor(streamId: string): Promise<OpenAlarmItem[]> {
    return (await this.db.queryAll({
      TableName: this.db.tables.alarms,
      KeyConditionExpression: 'streamId = :s',
      ExpressionAttributeValues: { ':s': streamId },
      ConsistentRead: true,
    })) as unknown as OpenAlarmItem[];
  }

  /** Keeps an event in the stream's history. */
  async record(event: DefectEvent): Promise<void> {
    await this.db.doc.send(
      new PutCommand({
        TableName: this.db.tables.events,
        Item: {
          streamId: event.streamId,
          at: `${new Date().toISOString()}#${event.dedupKey}#${event.state}`,
          event,
          [TTL_ATTRIBUTE]: nowSeconds() + EVENT_RETENTION_SECONDS,
        },
      }),
    );
  }

  async recent(streamId: string, limit: number): Promise<DefectEvent[]> {
    const r = await this.db.doc.send(
      new QueryCommand({
        TableName: this.db.tables.events,
        KeyConditionExpression: 'streamId = :s',
        ExpressionAttributeValues: { ':s': streamId },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    const now = nowSeconds();
    return (r.Items ?? []).filter((i) => Number(i[TTL_ATTRIBUTE]) >= now).map((i) => i.event as DefectEvent);
  }
}
