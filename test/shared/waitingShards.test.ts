/**
 * The waiting index is write-sharded (`pool` = `waiting#<shard>`), on the real registry code and
 * the embedded store: units spread over the shards, every waiting unit is found and counted, and
 * a unit written before sharding (`pool` = `waiting`) is still found, counted and claimed.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Registry } from '../../shared/registry/Registry.js';
import { WAITING_SHARDS, waitingPool } from '../../shared/registry/units.js';
import { startTestRegistry } from '../helpers/testRegistry.js';

let registry: Registry;
let stopRegistry: () => Promise<void>;

beforeAll(async () => {
  ({ registry, close: stopRegistry } = await startTestRegistry('w'));
});
afterAll(async () => {
  await stopRegistry();
});

describe('the waiting index, sharded', () => {
  it('spreads units over the shards and finds and counts every one', async () => {
    const streams = Array.from({ length: 60 }, (_, i) => `st_w${String(i).padStart(3, '0')}`);
    await registry.units.create(
      streams.map((streamId) => ({ streamId, group: 'all', detectors: ['video.black'] })),
      'registered',
    );
    const items = await registry.units.getMany(streams.map((s) => `${s}#all`));

    const pools = new Set(items.map((u) => u.pool));
    expect(pools.size).toBeGreaterThanOrEqual(WAITING_SHARDS - 2);
    for (const u of items) expect(u.pool).toBe(waitingPool(u.unitId));
    expect(await registry.units.countWaiting()).toBe(60);
    expect((await registry.units.waiting(100, 'st_w030')).sort()).toEqual(
      streams.map((s) => `${s}#all`).sort(),
    );
    expect(await registry.units.waiting(7, 'st_w030')).toHaveLength(7);
  });

  it('keeps a unit released back to waiting in its own shard, and claims it once', async () => {
    const id = 'st_w005#all';
    expect(await registry.units.claim(id, 'member-a')).not.toBeNull();
    expect(await registry.units.claim(id, 'member-b')).toBeNull();
    expect(await registry.units.countWaiting()).toBe(59);

    expect(await registry.units.release(id, 'member-a', 'drained')).toBe(true);

    expect((await registry.units.getMany([id]))[0].pool).toBe(waitingPool(id));
    expect(await registry.units.countWaiting()).toBe(60);
  });

  it('still finds, counts and claims a unit written before sharding', async () => {
    await registry.db.doc.send(
      new PutCommand({
        TableName: registry.db.tables.units,
        Item: {
          unitId: 'st_legacy#all',
          streamId: 'st_legacy',
          group: 'all',
          detectors: ['video.black'],
          createdAt: Date.now(),
          pool: 'waiting',
          waitReason: 'registered',
          waitingSince: Date.now(),
        },
      }),
    );

    expect(await registry.units.countWaiting()).toBe(61);
    expect(await registry.units.waiting(100, 'st_a')).toContain('st_legacy#all');
    expect(await registry.units.claim('st_legacy#all', 'member-a')).not.toBeNull();
    expect(await registry.units.countWaiting()).toBe(60);
  });
});
