/** 500 concurrent registrations, some retried with the same Idempotency-Key: none lost, none doubled. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../helpers/apiServer.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api.close();
});

describe('500 concurrent registrations', () => {
  it('stores every distinct request once, replays retries, and stores one waiting unit each', async () => {
    const requests = Array.from({ length: 500 }, (_, i) => {
      // Every fifth request retries an earlier key with the same body.
      const n = i % 5 === 4 ? i - 1 : i;
      return { key: `reg-${n}`, body: { url: `https://cdn.example.com/live/${n}.m3u8`, name: `s${n}` } };
    });
    const distinct = new Set(requests.map((r) => r.key)).size;

    // A retry that arrives while the first request still works is told so (409, Retry-After);
    // the client retries, as a real one would, and then gets the first request's stream.
    const post = async (r: (typeof requests)[number]): Promise<Awaited<ReturnType<TestApi['call']>>> => {
      const answer = await api.call('POST', '/streams', {
        body: r.body,
        headers: { 'idempotency-key': r.key },
      });
      if (answer.status !== 409 || answer.body.error?.code !== 'idempotency_in_progress') return answer;
      await new Promise((res) => setTimeout(res, 50));
      return post(r);
    };
    const answers = await Promise.all(requests.map(post));

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

    // Nothing lost or doubled in the work units either: one waiting unit per stream.
    const units = await api.registry.units.getMany(listed.map((id) => `${id}#all`));
    expect(units).toHaveLength(distinct);
    expect(units.every((u) => u.pool?.startsWith('waiting#') && !u.holder)).toBe(true);
    expect(await api.registry.units.countWaiting()).toBe(distinct);
  });
});
