/**
 * The alarms table: one open alarm per stream and type, a clear kept (closed) for re-sends, and
 * writes that recognise their own earlier success. Real registry code on the embedded store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedStore, startEmbeddedStore } from '../../local/embeddedStore.js';
import type { DefectEvent } from '../../shared/events.js';
import { Registry } from '../../shared/registry/Registry.js';

let store: EmbeddedStore;
let registry: Registry;

beforeAll(async () => {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  store = await startEmbeddedStore();
  registry = new Registry({ endpoint: store.endpoint, region: 'local', tablePrefix: 'alarms' });
  await registry.ensureTables();
});

afterAll(async () => {
  registry.destroy();
  await store.close();
});

const raised = (dedupKey: string): DefectEvent => ({
  type: 'video.freeze',
  state: 'raised',
  streamId: 'st_alarmstore',
  start: 10,
  end: null,
  severity: 'critical',
  dedupKey,
  detail: {},
  wallStart: '2026-11-22T06:00:00.000Z',
});
const cleared = (e: DefectEvent): DefectEvent => ({
  ...e,
  state: 'cleared',
  end: 14,
  wallEnd: '2026-11-22T06:00:04.000Z',
});

describe('alarms', () => {
  it('raises once, recognises its own repeated write, and refuses a second incident while one is open', async () => {
    const first = raised('video.freeze:one');

    expect(await registry.alarms.open(first)).toBe(true);
    expect(await registry.alarms.open(first)).toBe(true); // a retry after a lost response
    expect(await registry.alarms.open(raised('video.freeze:other'))).toBe(false);
    expect((await registry.alarms.openFor('st_alarmstore')).map((a) => a.dedupKey)).toEqual([
      'video.freeze:one',
    ]);
  });

  it('clears once, keeps the clear for re-sends, and lets the next incident open', async () => {
    const first = raised('video.freeze:one');
    const clear = cleared(first);
    const before = Date.now();

    expect(await registry.alarms.close(clear)).toBe(true);
    expect(await registry.alarms.close(clear)).toBe(true); // its own retry
    expect(await registry.alarms.close({ ...clear, wallEnd: '2026-11-22T06:09:00.000Z' })).toBe(false); // someone else's
    expect(await registry.alarms.openFor('st_alarmstore')).toEqual([]);
    expect(await registry.alarms.resendable('st_alarmstore', before - 1000)).toEqual([clear]);
    expect(await registry.alarms.resendable('st_alarmstore', Date.now() + 1000)).toEqual([]);

    const next = raised('video.freeze:two');
    expect(await registry.alarms.open(next)).toBe(true);
    expect(await registry.alarms.resendable('st_alarmstore', 0)).toEqual([next]);
  });
});
