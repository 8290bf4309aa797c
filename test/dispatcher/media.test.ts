/**
 * The pictures behind the console and the alarms (GET /streams/{id}/thumbnail and
 * /evidence/{file}) over real HTTP: the owner gets the bytes a worker stored, nobody else gets
 * anything, and no path a client sends reaches a file the store did not write. The console's own
 * files come without credentials, with a policy that lets the page run nothing but its own script.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evidenceKey, FolderMediaStore, thumbnailKey } from '../../shared/media/MediaStore.js';
import { KEYS, startTestApi, type TestApi } from '../helpers/apiServer.js';

const dir = mkdtempSync(join(tmpdir(), 'streamqc-media-'));
const store = new FolderMediaStore(dir);
let api: TestApi;
let id: string;
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]);

beforeAll(async () => {
  api = await startTestApi({ media: store });
  const r = await api.call('POST', '/streams', {
    body: { url: 'https://cdn.example.com/cam/index.m3u8', name: 'cam' },
  });
  expect(r.status).toBe(201);
  id = r.body.id;
  await store.put(thumbnailKey(id), JPEG);
  await store.put(evidenceKey(id, 'ev_0123456789abcdef0123', 'jpg'), JPEG);
  await store.put(evidenceKey(id, 'ev_0123456789abcdef0123', 'json'), Buffer.from('{"levels":[]}'));
});
afterAll(async () => {
  await api.close();
});

async function raw(path: string, key: string | null = KEYS.alice) {
  const res = await fetch(`${api.url}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    bytes: Buffer.from(await res.arrayBuffer()),
    res,
  };
}

describe('pictures', () => {
  it('gives the owner the stored thumbnail and evidence, as they were stored, never cached', async () => {
    const thumb = await raw(`/streams/${id}/thumbnail`);
    expect(thumb.status).toBe(200);
    expect(thumb.type).toBe('image/jpeg');
    expect(thumb.bytes.equals(JPEG)).toBe(true);
    expect(thumb.res.headers.get('cache-control')).toContain('no-store');
    const picture = await raw(`/streams/${id}/evidence/ev_0123456789abcdef0123.jpg`);
    expect(picture.bytes.equals(JPEG)).toBe(true);
    const levels = await raw(`/streams/${id}/evidence/ev_0123456789abcdef0123.json`);
    expect(levels.type).toBe('application/json');
    expect(JSON.parse(levels.bytes.toString())).toEqual({ levels: [] });
    // The console reaches the same routes under /console/api.
    expect((await raw(`/console/api/streams/${id}/thumbnail`)).bytes.equals(JPEG)).toBe(true);
  });

  it('answers another owner, no key, a deleted stream and unknown names alike with 404 or 401', async () => {
    expect((await raw(`/streams/${id}/thumbnail`, KEYS.bob)).status).toBe(404);
    expect((await raw(`/streams/${id}/evidence/ev_0123456789abcdef0123.jpg`, KEYS.bob)).status).toBe(404);
    expect((await raw(`/streams/${id}/thumbnail`, null)).status).toBe(401);
    expect((await raw(`/streams/${id}/evidence/ev_ffffffffffffffffffff.jpg`)).status).toBe(404);
    const other = await api.call('POST', '/streams', {
      body: { url: 'https://cdn.example.com/new/index.m3u8', name: 'new' },
    });
    expect((await raw(`/streams/${other.body.id}/thumbnail`)).status).toBe(404);
    await store.put(thumbnailKey(other.body.id), JPEG);
    expect((await raw(`/streams/${other.body.id}/thumbnail`)).status).toBe(200);
    expect((await api.call('DELETE', `/streams/${other.body.id}`)).status).toBe(200);
    expect((await raw(`/streams/${other.body.id}/thumbnail`)).status).toBe(404);
  });

  it('never reads outside what the store wrote: traversal and odd names are 404', async () => {
    writeFileSync(join(dir, 'secret.txt'), 'not for you');
    for (const file of [
      '..%2F..%2Fsecret.txt',
      'ev_0123456789abcdef0123.txt',
      'ev_0123456789abcdef0123.jpg%00',
      'EV_0123456789ABCDEF0123.jpg',
      'thumbnail.jpg',
    ]) {
      const r = await raw(`/streams/${id}/evidence/${file}`);
      expect([400, 404], file).toContain(r.status);
      expect(r.bytes.toString()).not.toContain('not for you');
    }
  });
});

describe('the console files', () => {
  it('are served without credentials, with a strict content security policy; unknown names are 404', async () => {
    const page = await raw('/console', null);
    expect(page.status).toBe(200);
    expect(page.type).toContain('text/html');
    expect(page.bytes.toString()).toContain('/console/app.js');
    const policy = page.res.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("script-src 'self'");
    expect(policy).not.toContain('unsafe-inline');
    expect((await raw('/console/app.js', null)).type).toContain('text/javascript');
    expect((await raw('/console/app.css', null)).type).toContain('text/css');
    expect((await raw('/console/package.json', null)).status).toBe(404);
    expect((await raw('/console/..%2Fhandler.ts', null)).status).toBe(404);
  });
});
