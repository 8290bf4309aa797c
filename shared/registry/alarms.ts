/**
 * Alarms (one item per stream and alarm slot — its type, or type and rendition: the conditional writes decide who raises and who
 * clears) and each stream's event history. A cleared alarm is kept for a day, closed, with its
 * clear event, so the periodic re-send covers clears as well as raises. Both writes recognise
 * their own earlier success: a retry after a lost response is not mistaken for someone else's
 * alarm, so the event is still published (once: the outbox id is the event's).
 */
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { alarmSlot, type DefectEvent } from '../events.js';
import { type Dynamo, nowSeconds } from './dynamo.js';
import { TTL_ATTRIBUTE } from './tables.js';

/** How long defect events are kept, seconds. */
export const EVENT_RETENTION_SECONDS = 7 * 24 * 3600;
/** How long a closed alarm (and its clear event) is kept for re-sends. */
const CLOSED_RETENTION_SECONDS = 24 * 3600;

export interface OpenAlarmItem {
  streamId: string;
  /** The alarm's slot (events.ts alarmSlot): its type, or type#rendition for one rendition of a ladder. */
  type: string;
  dedupKey: string;
  start: number;
  wallStart?: string;
  event: DefectEvent;
  status?: 'open' | 'closed';
  /** The clear event of a closed alarm. */
  cleared?: DefectEvent;
  closedAt?: number;
}

export class AlarmStore {
  constructor(private readonly db: Dynamo) {}

  private async item(streamId: string, type: string): Promise<OpenAlarmItem | null> {
    const r = await this.db.doc.send(
      new GetCommand({ TableName: this.db.tables.alarms, Key: { streamId, type }, ConsistentRead: true }),
    );
    return (r.Item as OpenAlarmItem | undefined) ?? null;
  }

  /** Opens an alarm; false if one of this type is already open (so it is not raised twice). */
  async open(event: DefectEvent): Promise<boolean> {
    const applied = await this.db.conditional(
      new PutCommand({
        TableName: this.db.tables.alarms,
        Item: {
          streamId: event.streamId,
          type: alarmSlot(event),
          dedupKey: event.dedupKey,
          start: event.start,
          wallStart: event.wallStart,
          event,
          status: 'open',
        } satisfies OpenAlarmItem,
        ConditionExpression: 'attribute_not_exists(streamId) OR #st = :closed',
        ExpressionAttributeNames: { '#st': 'status' },
        ExpressionAttributeValues: { ':closed': 'closed' },
      }),
    );
    if (applied) return true;
    const existing = await this.item(event.streamId, alarmSlot(event));
    return existing?.dedupKey === event.dedupKey && existing.status !== 'closed';
  }

  /** Closes an open alarm with its clear event; false if it was not open (cleared by someone else). */
  async close(cleared: DefectEvent): Promise<boolean> {
    const applied = await this.db.conditional(
      new UpdateCommand({
        TableName: this.db.tables.alarms,
        Key: { streamId: cleared.streamId, type: alarmSlot(cleared) },
        UpdateExpression: 'SET #st = :closed, cleared = :event, closedAt = :now, #ttl = :ttl',
        ConditionExpression: 'dedupKey = :k AND (attribute_not_exists(#st) OR #st = :open)',
        ExpressionAttributeNames: { '#st': 'status', '#ttl': TTL_ATTRIBUTE },
        ExpressionAttributeValues: {
          ':closed': 'closed',
          ':open': 'open',
          ':event': cleared,
          ':now': Date.now(),
          ':ttl': nowSeconds() + CLOSED_RETENTION_SECONDS,
          ':k': cleared.dedupKey,
        },
      }),
    );
    if (applied) return true;
    const existing = await this.item(cleared.streamId, alarmSlot(cleared));
    return (
      existing?.status === 'closed' &&
      existing.cleared?.dedupKey === cleared.dedupKey &&
      existing.cleared.wallEnd === cleared.wallEnd
    );
  }

  private async all(streamId: string): Promise<OpenAlarmItem[]> {
    return (await this.db.queryAll({
      TableName: this.db.tables.alarms,
      KeyConditionExpression: 'streamId = :s',
      ExpressionAttributeValues: { ':s': streamId },
      ConsistentRead: true,
    })) as unknown as OpenAlarmItem[];
  }

  async openFor(streamId: string): Promise<OpenAlarmItem[]> {
    return (await this.all(streamId)).filter((a) => a.status !== 'closed');
  }

  /** The events to re-send for a stream: raises of open alarms, clears of those closed since `since` (ms). */
  async resendable(streamId: string, since: number): Promise<DefectEvent[]> {
    return (await this.all(streamId)).flatMap((a) =>
      a.status !== 'closed' ? [a.event] : a.cleared && (a.closedAt ?? 0) >= since ? [a.cleared] : [],
    );
  }

  /** Keeps an event in the stream's history (one row per event: a repeated write overwrites it). */
  async record(event: DefectEvent): Promise<void> {
    const when = (event.state === 'raised' ? event.wallStart : event.wallEnd) ?? new Date().toISOString();
    await this.db.doc.send(
      new PutCommand({
        TableName: this.db.tables.events,
        Item: {
          streamId: event.streamId,
          at: `${when}#${event.dedupKey}#${event.state}`,
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
