/** The HTTP API of CONTRACT.md §2 over real HTTP on 127.0.0.1, with the real registry and store. */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DefectEvent } from '../../shared/events.js';
import { resolveThresholds } from '../../shared/thresholds.js';
import { KEYS, startTestApi, type TestApi } from '../helpers/apiServer.js';

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({
    resolver: async (host) => {
      if (host === 'metadata.evil.example') return ['169.254.169.254'];
      if (host === 'rebind.evil.example') return ['93.184.216.34', '10.0.0.7'];
      if (host === 'nx.example') throw new Error('ENOTFOUND');
      return ['93.184.216.34'];
    },
  });
});
afterAll(async () => {
  await api.close();
});

async function streamCount(key = KEYS.alice): Promise<number> {
  return (await api.call('GET', '/streams?limit=100', { key })).body.items.length;
}

describe('GET /health', () => {
  it('answers without credentials with status and version', async () => {
    const r = await api.call('GET', '/health', { key: null });

    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'ok', version: 'test' });
  });
});

describe('authentication', () => {
  it('refuses a request without a key, or with a wrong key, with 401', async () => {
    const none = await api.call('GET', '/streams', { key: null });
    const wrong = await api.call('GET', '/streams', { key: 'not-a-key' });

    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('unauthorized');
    expect(wrong.status).toBe(401);
  });
});

describe('GET /streams/{id}', () => {
  it("shows every threshold in force: the stream's own over the defaults", async () => {
    const r = await api.call('POST', '/streams', {
      body: {
        url: 'https://cdn.example.com/live/thresholds.m3u8',
        thresholds: { black: { minDuration: 2 } },
      },
    });
    const one = await api.call('GET', `/streams/${r.body.id}`);
    expect(one.body.thresholds).toEqual({ black: { minDuration: 2 } });
    expect(one.body.thresholdsInForce.black).toEqual({ ...resolveThresholds().black, minDuration: 2 });
    expect(one.body.thresholdsInForce.silence).toEqual(resolveThresholds().silence);
  });
});

describe('POST /streams', () => {
  it('runs every rule but the opt-in ones when none are listed, and an opt-in rule when listed', async () => {
    const plain = await api.call('POST', '/streams', {
      body: { url: 'https://cdn.example.com/a/index.m3u8' },
    });
    expect(plain.status).toBe(201);
    expect(plain.body.detectors).toContain('audio.loudness');
    expect(plain.body.detectors).not.toContain('audio.true_peak');
    const listed = await api.call('POST', '/streams', {
      body: { url: 'https://cdn.example.com/b/index.m3u8', detectors: ['audio.loudness', 'audio.true_peak'] },
    });
    expect(listed.status).toBe(201);
    expect(listed.body.detectors).toEqual(['audio.loudness', 'audio.true_peak']);
  });

  it('registers a stream and returns it with 201; GET and the list show it', async () => {
    const r = await api.call('POST', '/streams', {
      body: {
        url: 'https://cdn.example.com/live/index.m3u8',
        name: 'news',
        labels: { team: 'playout' },
        detectors: ['video.black', 'audio.silence'],
      },
    });

    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      url: 'https://cdn.example.com/live/index.m3u8',
      name: 'news',
      state: 'active',
      labels: { team: 'playout' },
    });
    expect(r.body.id).toMatch(/^st_[a-z0-9]{20}$/);
    const one = await api.call('GET', `/streams/${r.body.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      id: r.body.id,
      detectors: ['video.black', 'audio.silence'],
      openAlarms: [],
    });
    expect(one.body.assignment).toEqual([
      {
        group: 'all',
        detectors: ['video.black', 'audio.silence'],
        state: 'waiting',
        workerId: null,
        since: expect.any(String),
        reason: 'registered; waiting for a worker with room',
      },
    ]);
    const list = await api.call('GET', '/streams');
    expect(list.body.items.map((s: { id: string }) => s.id)).toContain(r.body.id);
    expect(api.launcherCalls.at(-1)?.waitingUnits).toBeGreaterThanOrEqual(1);
  });

  it('accepts threshold overrides and rejects out-of-range ones', async () => {
    const ok = await api.call('POST', '/streams', {
      body: { url: 'srt://93.184.216.34:9000', thresholds: { black: { minDuration: 2 } } },
    });
    const bad = await api.call('POST', '/streams', {
      body: { url: 'srt://93.184.216.34:9000', thresholds: { black: { minDuration: -1 } } },
    });

    expect(ok.status).toBe(201);
    expect(ok.body.thresholds).toEqual({ black: { minDuration: 2 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'invalid_field', field: 'thresholds.black.minDuration' });
  });

  it('lets a stream ask for full decoding and shows the choice; the default shows none', async () => {
    const full = await api.call('POST', '/streams', {
      body: { url: 'srt://93.184.216.34:9000', decode: 'full' },
    });
    const plain = await api.call('POST', '/streams', { body: { url: 'srt://93.184.216.34:9000' } });

    expect(full.status).toBe(201);
    expect((await api.call('GET', `/streams/${full.body.id}`)).body.decode).toBe('full');
    expect(plain.body.decode).toBeUndefined();
  });

  it('lets a stream opt out of certificate checks and shows it; the default (verify) shows none', async () => {
    const lab = await api.call('POST', '/streams', {
      body: { url: 'https://cdn.example.com/lab.m3u8', verifyTls: false },
    });
    const plain = await api.call('POST', '/streams', { body: { url: 'https://cdn.example.com/a.m3u8' } });

    expect(lab.status).toBe(201);
    expect((await api.call('GET', `/streams/${lab.body.id}`)).body.verifyTls).toBe(false);
    expect(plain.body.verifyTls).toBeUndefined();
  });

  it("keeps a stream's slate picture and shows which one is in force, not the picture", async () => {
    // A 1×1 PNG (the smallest whole one): what matters here is that it is a PNG.
    const png =
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg==';
    const r = await api.call('POST', '/streams', {
      body: { url: 'https://cdn.example.com/s.m3u8', slate: png },
    });
    expect(r.status).toBe(201);
    const shown = (await api.call('GET', `/streams/${r.body.id}`)).body;
    expect(shown.slate).toEqual({ type: 'image/png', bytes: Buffer.from(png, 'base64').length });
  });

  const badBodies: [string, { raw?: string; body?: unknown }, string, string | undefined][] = [
    ['malformed JSON', { raw: '{"url": "http://x",' }, 'invalid_json', undefined],
    ['an empty body', { raw: '' }, 'invalid_json', undefined],
    ['a JSON array', { body: [] }, 'invalid_field', undefined],
    [
      'an unknown field',
      { body: { url: 'https://cdn.example.com/a.m3u8', owner: 'bob' } },
      'invalid_field',
      'owner',
    ],
    ['a missing url', { body: { name: 'x' } }, 'invalid_field', 'url'],
    ['a wrong type', { body: { url: 42 } }, 'invalid_field', 'url'],
    [
      'an unknown detector',
      { body: { url: 'https://cdn.example.com/a.m3u8', detectors: ['video.purple'] } },
      'invalid_field',
      'detectors.0',
    ],
    [
      'an unknown decode profile',
      { body: { url: 'https://cdn.example.com/a.m3u8', decode: 'everything' } },
      'invalid_field',
      'decode',
    ],
    [
      'a slate that is not a PNG or JPEG',
      {
        body: { url: 'https://cdn.example.com/a.m3u8', slate: Buffer.from('GIF89a....').toString('base64') },
      },
      'invalid_field',
      'slate',
    ],
    [
      'verifyTls that is not a boolean',
      { body: { url: 'https://cdn.example.com/a.m3u8', verifyTls: 'no' } },
      'invalid_field',
      'verifyTls',
    ],
  ];
  for (const [what, request, code, field] of badBodies) {
    it(`answers ${what} with 400 ${code} and stores nothing`, async () => {
      const before = await streamCount();

      const r = await api.call('POST', '/streams', request);

      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe(code);
      if (field) expect(r.body.error.field).toBe(field);
      expect(typeof r.body.error.message).toBe('string');
      expect(await streamCount()).toBe(before);
    });
  }

  it('answers an oversized body with 413 and stores nothing', async () => {
    const before = await streamCount();

    const r = await api.call('POST', '/streams', {
      raw: JSON.stringify({ url: 'https://cdn.example.com/a.m3u8', name: 'x'.repeat(40_000) }),
    });

    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe('payload_too_large');
    expect(await streamCount()).toBe(before);
  });
});

describe('hostile stream URLs', () => {
  const hostile: [string, string][] = [
    ['file:///etc/passwd', 'url_scheme'],
    ['/etc/passwd', 'url_scheme'],
    ['gopher://93.184.216.34/', 'url_scheme'],
    ['http://169.254.169.254/latest/meta-data/', 'url_forbidden'],
    ['http://2852039166/latest/meta-data/', 'url_forbidden'],
    ['http://0xA9FEA9FE/', 'url_forbidden'],
    ['http://0251.0376.0251.0376/', 'url_forbidden'],
    ['http://[::ffff:169.254.169.254]/', 'url_forbidden'],
    ['http://169.254.170.2/v2/credentials', 'url_forbidden'],
    ['udp://[fd00:ec2::254]:5000', 'url_forbidden'],
    ['rtmp://10.0.0.5/live/key', 'url_forbidden'],
    ['srt://192.168.1.10:9000', 'url_forbidden'],
    ['rtsp://100.64.0.9/cam', 'url_forbidden'],
    ['http://127.0.0.1:8080/', 'url_forbidden'],
    ['http://localhost:8080/', 'url_forbidden'],
    ['rtmp://0x7f.1/live', 'url_forbidden'],
    ['http://metadata.evil.example/', 'url_forbidden'],
    ['http://rebind.evil.example/live.m3u8', 'url_forbidden'],
    ['http://nx.example/live.m3u8', 'url_unresolvable'],
    ['http://exa mple.com/', 'url_invalid'],
  ];
  for (const [url, code] of hostile) {
    it(`refuses ${url} with 400 ${code}`, async () => {
      const before = await streamCount();

      const r = await api.call('POST', '/streams', { body: { url } });

      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ code, field: 'url' });
      expect(await streamCount()).toBe(before);
    });
  }
});

describe('owners are isolated', () => {
  it("never shows, lists or deletes another owner's stream (404, as if it did not exist)", async () => {
    const mine = await api.call('POST', '/streams', { body: { url: 'https://cdn.example.com/alice.m3u8' } });
    const id = mine.body.id as string;

    const get = await api.call('GET', `/streams/${id}`, { key: KEYS.bob });
    const defects = await api.call('GET', `/streams/${id}/defects`, { key: KEYS.bob });
    const del = await api.call('DELETE', `/streams/${id}`, { key: KEYS.bob });
    const missing = await api.call('GET', '/streams/st_00000000000000000000', { key: KEYS.bob });
    const list = await api.call('GET', '/streams', { key: KEYS.bob });

    expect(missing.status).toBe(404);
    for (const r of [get, defects, del]) {
      expect(r.status).toBe(404);
      expect(r.body).toEqual({ error: { code: 'not_found', message: `no stream ${id}` } });
    }
    expect(list.body.items.map((s: { id: string }) => s.id)).not.toContain(id);
    expect((await api.call('GET', `/streams/${id}`)).status).toBe(200);
  });
});

describe('idempotent registration', () => {
  it('returns the original stream when a POST is retried with the same Idempotency-Key', async () => {
    const body = { url: 'https://cdn.example.com/retry.m3u8', name: 'retry' };
    const headers = { 'idempotency-key': 'retry-1' };

    const first = await api.call('POST', '/streams', { body, headers });
    const second = await api.call('POST', '/streams', { body, headers });

    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
  });

  it('refuses the same key with a different body (409) and keys are per owner', async () => {
    const headers = { 'idempotency-key': 'shared-key' };
    const a = await api.call('POST', '/streams', {
      body: { url: 'https://cdn.example.com/1.m3u8' },
      headers,
    });
    const conflict = await api.call('POST', '/streams', {
      body: { url: 'https://cdn.example.com/2.m3u8' },
      headers,
    });
    const bobs = await api.call('POST', '/streams', {
      body: { url: 'https://cdn.example.com/1.m3u8' },
      headers,
      key: KEYS.bob,
    });

    expect(a.status).toBe(201);
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.code).toBe('idempotency_conflict');
    expect(bobs.status).toBe(201);
    expect(bobs.body.id).not.toBe(a.body.id);
  });
});

/** What a request that claimed an Idempotency-Key and did not (yet) store its stream leaves behind. */
async function leaveIdempotencyKey(key: string, streamId: string, body: unknown, claimedAt?: number) {
  const { createHash } = await import('node:crypto');
  await api.registry.db.doc.send(
    new PutCommand({
      TableName: api.registry.db.tables.idempotency,
      Item: {
        key,
        streamId,
        bodyHash: createHash('sha256').update(JSON.stringify(body)).digest('hex'),
        ...(claimedAt ? { claimedAt } : {}),
        expiresAt: Math.floor(Date.now() / 1000) + 3600,
      },
    }),
  );
}

describe('a registration that died half-way', () => {
  it('lets a retry with the same Idempotency-Key take over instead of failing', async () => {
    const body = { url: 'https://cdn.example.com/orphan.m3u8' };
    // What a dispatcher that crashed after claiming the key (and before storing the stream) leaves behind.
    await leaveIdempotencyKey('alice#orphan-1', 'st_deaddeaddeaddeaddead', body);

    const retry = await api.call('POST', '/streams', { body, headers: { 'idempotency-key': 'orphan-1' } });
    const again = await api.call('POST', '/streams', { body, headers: { 'idempotency-key': 'orphan-1' } });

    expect(retry.status).toBe(201);
    expect(retry.body.id).not.toBe('st_deaddeaddeaddeaddead');
    expect(again.body.id).toBe(retry.body.id);
  });

  it('tells a retry that the first request is still working (409, Retry-After) instead of creating a second stream', async () => {
    const body = { url: 'https://cdn.example.com/slow.m3u8' };
    // A first request that claimed the key a moment ago and is still writing (slow store, say).
    await leaveIdempotencyKey('alice#slow-1', 'st_slowslowslowslowslow', body, Date.now());
    const before = (await api.call('GET', '/streams?limit=100')).body.items.length;

    const retry = await api.call('POST', '/streams', { body, headers: { 'idempotency-key': 'slow-1' } });

    expect(retry.status).toBe(409);
    expect(retry.body.error.code).toBe('idempotency_in_progress');
    expect(retry.headers.get('retry-after')).toBe('1');
    expect((await api.call('GET', '/streams?limit=100')).body.items.length).toBe(before);
  });
});

describe('GET /streams pagination', () => {
  it('walks every stream exactly once with limit and cursor', async () => {
    const owner = 'key-bob-0123456789';
    const created = new Set<string>();
    for (let i = 0; i < 5; i++)
      created.add(
        (
          await api.call('POST', '/streams', {
            body: { url: `https://cdn.example.com/p${i}.m3u8` },
            key: owner,
          })
        ).body.id,
      );
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;

    do {
      const r = await api.call('GET', `/streams?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { key: owner });
      expect(r.status).toBe(200);
      expect(r.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...r.body.items.map((s: { id: string }) => s.id));
      cursor = r.body.nextCursor;
      pages++;
    } while (cursor && pages < 20);

    expect(new Set(seen).size).toBe(seen.length);
    for (const id of created) expect(seen).toContain(id);
  });

  it('answers a forged cursor or a bad limit with 400', async () => {
    const forged = Buffer.from(JSON.stringify({ owner: 'alice', createdAt: 'x', id: 'y' })).toString(
      'base64url',
    );

    const badCursor = await api.call('GET', `/streams?cursor=${forged}`, { key: KEYS.bob });
    const garbage = await api.call('GET', '/streams?cursor=%%%');
    const badLimit = await api.call('GET', '/streams?limit=0');

    expect(badCursor.status).toBe(400);
    expect(garbage.status).toBe(400);
    expect(badLimit.status).toBe(400);
  });
});

describe('DELETE /streams/{id}', () => {
  it('stops monitoring and clears the open alarms, once', async () => {
    const r = await api.call('POST', '/streams', { body: { url: 'https://cdn.example.com/del.m3u8' } });
    const id = r.body.id as string;
    const raised: DefectEvent = {
      type: 'video.black',
      state: 'raised',
      streamId: id,
      start: 12.5,
      end: null,
      severity: 'critical',
      dedupKey: 'video.black:abc',
      detail: { meanLuma: 1 },
    };
    await api.registry.alarms.open(raised);

    const del = await api.call('DELETE', `/streams/${id}`);
    const again = await api.call('DELETE', `/streams/${id}`);
    const get = await api.call('GET', `/streams/${id}`);

    expect(del.status).toBe(200);
    expect(del.body).toEqual({ id, state: 'deleted', clearedAlarms: 1 });
    expect(again.status).toBe(404);
    expect(get.status).toBe(404);
    expect(await api.registry.alarms.openFor(id)).toEqual([]);
    const outbox = await Promise.all(
      (await api.registry.outbox.due(100)).map((o) => api.registry.outbox.get(o)),
    );
    const cleared = outbox.find((o) => o?.event.streamId === id);
    expect(cleared?.event).toMatchObject({
      state: 'cleared',
      dedupKey: 'video.black:abc',
      type: 'video.black',
    });
    expect(await api.registry.units.getMany([`${id}#all`])).toEqual([]);
  });
});

describe('unknown routes and methods', () => {
  it('answers 404 for unknown routes and 405 for wrong methods', async () => {
    expect((await api.call('GET', '/nope')).status).toBe(404);
    expect((await api.call('PUT', '/streams')).status).toBe(405);
    expect((await api.call('POST', '/health', { key: null })).status).toBe(405);
  });
});
