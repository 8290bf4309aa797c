/** What each work unit is doing, one item per unit, expiring when no worker writes it any more. */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { StreamHealth } from '../streamSpec.js';
import { type Dynamo, nowSeconds } from './dynamo.js';
import { TTL_ATTRIBUTE } from './tables.js';

/** A health item outlives its last write by this long (writers refresh it once a minute). */
export const HEALTH_TTL_SECONDS = 5 * 60;

export class HealthStore {
  constructor(private readonly db: Dynamo) {}

  async put(unitId: string, health: StreamHealth): Promise<void> {
    await this.db.doc.send(
      new PutCommand({
        TableName: this.db.tables.health,
        Item: { unitId, health, [TTL_ATTRIBUTE]: nowSeconds() + HEALTH_TTL_SECONDS },
      }),
    );
  }

  /** Health of several units by id (unexpired only). */
  async getMany(unitIds: string[]): Promise<Map<string, StreamHealth>> {
    const now = nowSeconds();
    const items = await this.db.batchGet(
      this.db.tables.health,
      unitIds.map((id) => ({ unitId: id })),
    );
    return new Map(
      items
        .filter((i) => Number(i[TTL_ATTRIBUTE]) >= now)
        .map((i) => [String(i.unitId), i.health as StreamHealth]),
    );
  }
}
