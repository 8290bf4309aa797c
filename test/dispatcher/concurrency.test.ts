/** 500 concurrent registrations, some retried with the same Idempotency-Key: none lost, none doubled. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assignShards } from '../../shared/partitioner.js';
import { startTestApi, type TestApi } from '../helpers/apiServer.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api.close();
});

describe('500 concurrent registrations', () => {
  it('stores every distinct request once, replays retries, and spreads work evenly', async () => {
    const requests = Array.from({ length: 500 }, (_, i) => {
      // Every fifth request retries an earlier key with the same body.
      const n = i % 5 === 4 ? i - 1 : i;
      return { key: `reg-${n}`, body: { url: `https://cdn.example.com/live/${n}.m3u8`, name: `s${n}` } };
    });
    const distinct = new Set(requests.map((r) => r.key)).size;

    const answers = await Promise.all(
      requests.map((r) =>
        api.call('POST', '/streams', { body: r.body, headers: { 'idempotency-key': r.key } }),
      ),
    );

    expect(answers.every((a) => a.status === 201 || a.status === 200)).toBe(true);
    expect(answers.filter((a) => a.status === 201)).toHaveLength(distinct);
    const idByKey = new Map<string, Set<string>>();
    answers.forEach((a, i) => {
      const set = idByKey.get(requests[i].key) ?? new Set();
      set.add(a.body.id);
      idByKey.set(requests[i].key, set);
    });
    for (const ids of idByKey.values()) expect(ids.size).toBe(1);
    const listed: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await api.call('GET', `/streams?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
      listed.push(...page.body.items.map((s: { id: string }) => s.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(listed).toHaveLength(distinct);
    expect(new Set(listed).size).toBe(distinct);

    // Nothing lost or doubled in the work units either; units spread evenly over the shards.
    const perShard: number[] = [];
    for (let shard = 0; shard < 64; shard++) perShard.push((await api.registry.unitsInShard(shard)).length);
    expect(perShard.reduce((a, b) => a + b, 0)).toBe(distinct);
    const mean = distinct / 64;
    expect(Math.max(...perShard)).toBeLessThan(mean + 5 * Math.sqrt(mean));
    // Shards spread evenly over workers (rendezvous hashing; with many shards per worker).
    const owners = assignShards(1024, ['w1', 'w2', 'w3', 'w4']);
    const perWorker = new Map<string, number>();
    for (const w of owners.values()) perWorker.set(w!, (perWorker.get(w!) ?? 0) + 1);
    for (const shards of perWorker.values()) expect(Math.abs(shards - 256)).toBeLessThan(256 * 0.15);
  });
});
