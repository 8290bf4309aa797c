/**
 * Fleet membership: one heartbeat item per running worker incarnation, in one ring ordered by
 * member id. Each worker reads only the member after it (its successor) and, when that member's
 * lease has run out, takes over its units for everybody: reads and writes per worker stay
 * constant however large the fleet. A member that was taken over is marked `reaped`; its own
 * next heartbeat fails, and it stops everything before rejoining under a new member id.
 */
import { DeleteCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type Dynamo, nowSeconds } from './dynamo.js';
import { TTL_ATTRIBUTE } from './tables.js';

/** The ring's partition key (see docs/aws.md "Registry and scale" for when to split it). */
const RING = 'fleet';
/** Heartbeat items linger this long after their last beat, then DynamoDB's TTL removes them. */
const LINGER_SECONDS = 24 * 3600;

export interface Member {
  memberId: string;
  workerId: string;
  /** Epoch ms until which the member's holdings are its own. */
  leaseUntil: number;
  budget: number;
  load: number;
  draining: boolean;
  reaped?: boolean;
}

export class FleetStore {
  constructor(private readonly db: Dynamo) {}

  private get table(): string {
    return this.db.tables.workers;
  }

  async join(member: Member): Promise<void> {
    await this.db.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: { ring: RING, ...member, [TTL_ATTRIBUTE]: nowSeconds() + LINGER_SECONDS },
        ConditionExpression: 'attribute_not_exists(memberId)',
      }),
    );
  }

  /** Renews a member's lease; false when it was taken over (or removed) meanwhile. */
  async beat(member: Omit<Member, 'reaped'>): Promise<boolean> {
    return this.db.conditional(
      new UpdateCommand({
        TableName: this.table,
        Key: { ring: RING, memberId: member.memberId },
        UpdateExpression: 'SET leaseUntil = :l, budget = :b, #load = :n, draining = :d, #ttl = :ttl',
        ConditionExpression: 'attribute_exists(memberId) AND attribute_not_exists(reaped)',
        ExpressionAttributeNames: { '#load': 'load', '#ttl': TTL_ATTRIBUTE },
        ExpressionAttributeValues: {
          ':l': member.leaseUntil,
          ':b': member.budget,
          ':n': member.load,
          ':d': member.draining,
          ':ttl': nowSeconds() + LINGER_SECONDS,
        },
      }),
    );
  }

  async leave(memberId: string): Promise<void> {
    await this.db.doc.send(new DeleteCommand({ TableName: this.table, Key: { ring: RING, memberId } }));
  }

  /** The member after `memberId` in the ring (wrapping), or null when it is alone. */
  async successor(memberId: string): Promise<Member | null> {
    const first = async (condition?: string) =>
      (
        await this.db.doc.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: `ring = :r${condition ? ` AND ${condition}` : ''}`,
            ExpressionAttributeValues: { ':r': RING, ...(condition ? { ':me': memberId } : {}) },
            Limit: 1,
          }),
        )
      ).Items?.[0] as Member | undefined;
    const next = (await first('memberId > :me')) ?? (await first());
    return next && next.memberId !== memberId ? next : null;
  }

  async get(memberId: string): Promise<Member | null> {
    const r = await this.db.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'ring = :r AND memberId = :m',
        ExpressionAttributeValues: { ':r': RING, ':m': memberId },
      }),
    );
    return (r.Items?.[0] as Member | undefined) ?? null;
  }

  /** Marks an expired member as taken over; false if it renewed its lease meanwhile. */
  async markReaped(memberId: string, now: number): Promise<boolean> {
    return this.db.conditional(
      new UpdateCommand({
        TableName: this.table,
        Key: { ring: RING, memberId },
        UpdateExpression: 'SET reaped = :t',
        ConditionExpression: 'leaseUntil < :now',
        ExpressionAttributeValues: { ':t': true, ':now': now },
      }),
    );
  }

  /** Every member (tests and the scale harness; no periodic path reads the whole ring). */
  async all(): Promise<Member[]> {
    return (await this.db.queryAll({
      TableName: this.table,
      KeyConditionExpression: 'ring = :r',
      ExpressionAttributeValues: { ':r': RING },
    })) as unknown as Member[];
  }
}
