/**
 * A supervisor whose own loop fails (here: the registry is unreachable when it restores the
 * stream's open alarms) is started again with backoff and shows it, instead of sitting dead while
 * it looks like it runs; an alarm write that fails (or whose response is lost) is retried until
 * stored and published once. Real registry code on the embedded store, with injected failures.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedStore } from '../../../local/embeddedStore.js';
import type { DefectEvent } from '../../../shared/events.js';
import { DEFECT_TYPES } from '../../../shared/events.js';
import { type OpenAlarmItem, Registry } from '../../../shared/registry/Registry.js';
import type { StreamRecord } from '../../../shared/streamSpec.js';
import { StreamSupervisor } from '../../../worker/agent/StreamSupervisor.js';
import { GuardProxy } from '../../../worker/egress/GuardProxy.js';
import { Outbox } from '../../../worker/publishers/Outbox.js';
import { fixturePath, fixturesReady } from '../../fixtures/generate.js';
import { until } from '../../helpers/stackClient.js';

// The fixture clips are made in the background (test/fixtures/globalSetup.ts).
beforeAll(() => fixturesReady(['clean.ts', 'black.ts']));

/** The real registry, whose first `failures` reads of open alarms fail as an unreachable store would. */
class FlakyRegistry extends Registry {
  failures = 1;

  constructor(...args: ConstructorParameters<typeof Registry>) {
    super(...args);
    const openFor = this.alarms.openFor.bind(this.alarms);
    this.alarms.openFor = async (streamId: string): Promise<OpenAlarmItem[]> => {
      if (this.failures-- > 0) throw new Error('connect ECONNREFUSED (injected)');
      return openFor(streamId);
    };
  }
}

let store: Awaited<ReturnType<typeof startEmbeddedStore>>;
let registry: FlakyRegistry;

beforeAll(async () => {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  store = await startEmbeddedStore();
  registry = new FlakyRegistry({ endpoint: store.endpoint, region: 'local', tablePrefix: `s${Date.now()}` });
  await registry.ensureTables();
});

afterAll(async () => {
  registry.destroy();
  await store.close();
});

describe('a supervisor whose loop throws', () => {
  it('is started again and analyses its stream to the end', async () => {
    const logger = pino({ level: 'silent' });
    const now = new Date().toISOString();
    const stream: StreamRecord = {
      id: 'st_flaky',
      owner: 'me',
      url: fixturePath('clean.ts'),
      name: 'flaky',
      detectors: [...DEFECT_TYPES],
      thresholds: {},
      labels: {},
      expect: { audio: true, video: true },
      units: [{ group: 'all', detectors: [...DEFECT_TYPES] }],
      state: 'active',
      createdAt: now,
      updatedAt: now,
    };
    const supervisor = new StreamSupervisor(
      {
        unitId: 'st_flaky#all',
        streamId: stream.id,
        group: 'all',
        detectors: [...DEFECT_TYPES],
        createdAt: Date.now(),
      },
      stream,
      {
        registry,
        outbox: new Outbox(registry, [], logger),
        logger,
        security: { localMode: true, allowFiles: true, allowedNetworks: [] },
        workerId: 'w1',
        proxy: new GuardProxy({ localMode: true, allowFiles: true, allowedNetworks: [] }, logger),
      },
    );

    supervisor.start();
    const crashedState = await until('the crash seen', 10, () =>
      supervisor.crashes > 0 ? supervisor.state : undefined,
    );
    await until('the file analysed to its end', 60, () =>
      supervisor.state === 'completed' ? true : undefined,
    );
    await supervisor.stop();

    expect(crashedState).toBe('backoff');
    expect(supervisor.crashes).toBe(1);
    expect(supervisor.frames).toBeGreaterThan(200);
  });
});

describe('an alarm write that fails', () => {
  it('is retried until stored, and the alarm is published once (also after a lost response)', async () => {
    const logger = pino({ level: 'silent' });
    const store2 = registry; // the same embedded store, other stream
    let openCalls = 0;
    let recordFailures = 1;
    const realOpen = store2.alarms.open.bind(store2.alarms);
    const realRecord = store2.alarms.record.bind(store2.alarms);
    // The first raise is written, but its response is lost; the first history write fails outright.
    store2.alarms.open = async (event) => {
      const applied = await realOpen(event);
      if (++openCalls === 1) throw new Error('socket hang up (injected after the write)');
      return applied;
    };
    store2.alarms.record = async (event) => {
      if (recordFailures-- > 0) throw new Error('ProvisionedThroughputExceededException (injected)');
      return realRecord(event);
    };
    const published: DefectEvent[] = [];
    const now = new Date().toISOString();
    const stream: StreamRecord = {
      id: 'st_lostresponse',
      owner: 'me',
      url: fixturePath('black.ts'),
      name: 'lost response',
      detectors: ['video.black'],
      thresholds: {},
      labels: {},
      expect: { audio: true, video: true },
      units: [{ group: 'all', detectors: ['video.black'] }],
      state: 'active',
      createdAt: now,
      updatedAt: now,
    };
    const supervisor = new StreamSupervisor(
      {
        unitId: 'st_lostresponse#all',
        streamId: stream.id,
        group: 'all',
        detectors: ['video.black'],
        createdAt: Date.now(),
      },
      stream,
      {
        registry: store2,
        outbox: new Outbox(
          store2,
          [{ name: 'capture', publish: async (e) => void published.push(e) }],
          logger,
        ),
        logger,
        security: { localMode: true, allowFiles: true, allowedNetworks: [] },
        workerId: 'w1',
        proxy: new GuardProxy({ localMode: true, allowFiles: true, allowedNetworks: [] }, logger),
      },
    );

    supervisor.start();
    await until('the file analysed to its end', 60, () =>
      supervisor.state === 'completed' ? true : undefined,
    );
    await until('raise and clear published', 20, () => (published.length >= 2 ? true : undefined));
    await supervisor.stop();

    expect(openCalls).toBeGreaterThanOrEqual(2);
    expect(published.map((e) => `${e.type} ${e.state}`)).toEqual([
      'video.black raised',
      'video.black cleared',
    ]);
    expect(await store2.alarms.openFor(stream.id)).toEqual([]);
    expect((await store2.alarms.recent(stream.id, 10)).map((e) => e.state).sort()).toEqual([
      'cleared',
      'raised',
    ]);
  });
});
