/**
 * Per-owner quotas at the API: one owner's burst of registrations is refused past its limits with
 * 429 and Retry-After, changes nothing, and leaves every other owner untouched.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { KEYS, startTestApi, type TestApi } from '../helpers/apiServer.js';

const apis: TestApi[] = [];
afterAll(async () => {
  for (const api of apis) await api.close();
});

const spec = (i: number) => ({ url: `https://cdn.example.com/live/${i}.m3u8` });

describe('an owner at its stream quota', () => {
  it('gets 429 for its 201st stream with a quota of 200, and may register again after a delete', async () => {
    const api = await startTestApi({ quota: { maxStreams: 200, registrationsPerMinute: 10_000 } });
    apis.push(api);
    const ids: string[] = [];
    for (let i = 0; i < 200; i += 20) {
      const batch = await Promise.all(
        Array.from({ length: 20 }, (_, k) => api.call('POST', '/streams', { body: spec(i + k) })),
      );
      for (const r of batch) {
        expect(r.status).toBe(201);
        ids.push(r.body.id);
      }
    }

    const refused = await api.call('POST', '/streams', { body: spec(200) });
    const other = await api.call('POST', '/streams', { key: KEYS.bob, body: spec(200) });

    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('quota_exceeded');
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(other.status).toBe(201);
    // Nothing was stored for the refused request.
    let listed = 0;
    let cursor = '';
    do {
      const page = await api.call('GET', `/streams?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
      listed += page.body.items.length;
      cursor = page.body.nextCursor ?? '';
    } while (cursor);
    expect(listed).toBe(200);

    expect((await api.call('DELETE', `/streams/${ids[0]}`)).status).toBe(200);
    expect((await api.call('POST', '/streams', { body: spec(201) })).status).toBe(201);
  });

  it('still answers a retry of a registration it made, with its Idempotency-Key', async () => {
    const api = await startTestApi({ quota: { maxStreams: 1, registrationsPerMinute: 10_000 } });
    apis.push(api);
    const headers = { 'idempotency-key': 'onboarding-1' };

    const first = await api.call('POST', '/streams', { body: spec(1), headers });
    const retry = await api.call('POST', '/streams', { body: spec(1), headers });
    const another = await api.call('POST', '/streams', { body: spec(2) });

    expect(first.status).toBe(201);
    expect(retry.status).toBe(200);
    expect(retry.body.id).toBe(first.body.id);
    expect(another.status).toBe(429);
  });
});

describe('an owner registering faster than its rate', () => {
  it('gets 429 rate_limited with the seconds to the next minute, and other owners do not', async () => {
    const api = await startTestApi({ quota: { maxStreams: 1000, registrationsPerMinute: 5 } });
    apis.push(api);

    // Not across a minute boundary: the new minute would have its own five.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 55_000) await new Promise((r) => setTimeout(r, 60_500 - intoMinute));
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => api.call('POST', '/streams', { body: spec(i) })),
    );
    const bob = await api.call('POST', '/streams', { key: KEYS.bob, body: spec(99) });

    const created = results.filter((r) => r.status === 201);
    const limited = results.filter((r) => r.status === 429);
    expect(created).toHaveLength(5);
    expect(limited).toHaveLength(3);
    for (const r of limited) {
      expect(r.body.error.code).toBe('rate_limited');
      const after = Number(r.headers.get('retry-after'));
      expect(after).toBeGreaterThan(0);
      expect(after).toBeLessThanOrEqual(60);
    }
    expect(bob.status).toBe(201);
  });
});
