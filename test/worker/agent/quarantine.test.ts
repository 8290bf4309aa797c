/**
 * No contagion, no silence, on the real registry code and the embedded store: a unit whose
 * workers keep dying under it is quarantined at the strike limit (never handed on, shown by the
 * API's assignment, alarmed once as stream.unmonitored), and a unit whose open is stuck raises
 * stream.unmonitored naming the stage at its deadline and clears it at its first media.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFECT_TYPES } from '../../../shared/events.js';
import type { Registry } from '../../../shared/registry/Registry.js';
import type { StrikePolicy } from '../../../shared/registry/units.js';
import type { StreamRecord } from '../../../shared/streamSpec.js';
import { StreamSupervisor } from '../../../worker/agent/StreamSupervisor.js';
import { takeOverSuccessor } from '../../../worker/agent/takeOver.js';
import { GuardProxy } from '../../../worker/egress/GuardProxy.js';
import { Outbox } from '../../../worker/publishers/Outbox.js';
import { fixturePath, fixturesReady } from '../../fixtures/generate.js';
import { until } from '../../helpers/stackClient.js';
import { startTestRegistry } from '../../helpers/testRegistry.js';

// The fixture clips are made in the background (test/fixtures/globalSetup.ts).
beforeAll(() => fixturesReady(['clean.ts']));

let registry: Registry;
let stopRegistry: () => Promise<void>;
const policy: StrikePolicy = { limit: 3, windowMs: 30 * 60_000 };

beforeAll(async () => {
  ({ registry, close: stopRegistry } = await startTestRegistry('q'));
});

afterAll(async () => {
  await stopRegistry();
});

/** A worker that joined with a lease already run out (it died). */
async function deadWorker(name: string): Promise<string> {
  const memberId = `${name}#${Date.now().toString(36)}`;
  await registry.fleet.join({
    memberId,
    workerId: name,
    leaseUntil: Date.now() - 1,
    budget: 8,
    load: 0,
    draining: false,
  });
  return memberId;
}

describe('strikes', () => {
  it('a unit whose worker dies under it three times in the window is quarantined, not handed on; bystanders are not struck', async () => {
    const create = (streamId: string) =>
      registry.units.create([{ streamId, group: 'all', detectors: ['stream.loss'] }], 'new');
    for (const id of ['st_bomb', 'st_fine', 'st_later']) await create(id);
    // The survivor that takes the dead over sits before them in the ring ("a…" < "b…").
    const survivor = `a-survivor#${Date.now().toString(36)}`;
    await registry.fleet.join({
      memberId: survivor,
      workerId: 'a-survivor',
      leaseUntil: Date.now() + 600_000,
      budget: 8,
      load: 0,
      draining: false,
    });
    const outcomes: string[] = [];
    for (let death = 1; death <= 3; death++) {
      const dead = await deadWorker(`b-dead-${death}`);
      expect(await registry.units.claim('st_bomb#all', dead)).not.toBeNull();
      // First death: the healthy unit shares it (nothing tells which unit did it: both struck).
      // Later deaths: a never-struck unit shares them with the suspect, and is not struck.
      const bystander = death === 1 ? 'st_fine#all' : 'st_later#all';
      expect(await registry.units.claim(bystander, dead)).not.toBeNull();
      const taken = await takeOverSuccessor(registry, survivor, policy);
      expect(taken?.from.memberId).toBe(dead);
      outcomes.push(
        ...(taken?.quarantined.map((q) => `quarantined ${q.unit.unitId} after ${q.strikes}`) ?? []),
      );
      outcomes.push(`moved ${taken?.moved}`);
    }
    expect(outcomes).toEqual(['moved 2', 'moved 2', 'quarantined st_bomb#all after 3', 'moved 1']);
    const items = await registry.units.getMany(['st_bomb#all', 'st_fine#all', 'st_later#all']);
    const [bomb, fine, later] = ['st_bomb#all', 'st_fine#all', 'st_later#all'].map(
      (id) => items.find((u) => u.unitId === id) as (typeof items)[number],
    );
    expect(bomb.quarantined).toMatch(
      /^quarantined: 3 workers stopped while running it within 30 min \(the last: worker b-dead-3 stopped heartbeating\)$/,
    );
    expect(bomb.holder).toBeUndefined();
    expect(bomb.pool).toBeUndefined();
    expect(fine.strikes).toBe(1);
    expect(later.strikes).toBeUndefined();
    // Nobody can claim it, and it is not among the waiting.
    expect(await registry.units.claim('st_bomb#all', survivor)).toBeNull();
    expect((await registry.units.waiting(10, '')).sort()).toEqual(['st_fine#all', 'st_later#all']);
    expect(await registry.units.claim('st_later#all', survivor)).not.toBeNull();
    // A unit one strike short of the limit is a prime suspect: a worker holding one takes no
    // second (probation); a unit with fewer strikes is taken by anyone.
    await create('st_prime');
    let prime = (await registry.units.claim('st_prime#all', 'w-x#1'))!;
    await registry.units.strike(prime, 'w-x#1', 'died', policy);
    prime = (await registry.units.claim('st_prime#all', 'w-x#1'))!;
    expect((await registry.units.strike(prime, 'w-x#1', 'died', policy))?.strikes).toBe(2);
    const probation = { strikes: 2, since: Date.now() - policy.windowMs };
    expect(await registry.units.claim('st_prime#all', survivor, probation)).toBeNull();
    expect(await registry.units.claim('st_fine#all', survivor, probation)).not.toBeNull();
    expect(await registry.units.claim('st_prime#all', survivor)).not.toBeNull();
    // Run well for a while: strikes forgotten.
    expect(await registry.units.absolve('st_prime#all', survivor)).toBe(true);
    const [absolved] = await registry.units.getMany(['st_prime#all']);
    expect(absolved.strikes).toBeUndefined();
  });

  it('deaths further apart than the window do not add up', async () => {
    await registry.units.create([{ streamId: 'st_rare', group: 'all', detectors: ['stream.loss'] }], 'new');
    const holder = 'w-old#1';
    let unit = (await registry.units.claim('st_rare#all', holder))!;
    const long = Date.now() - 31 * 60_000;
    for (let i = 0; i < 2; i++) {
      expect((await registry.units.strike(unit, holder, 'died', policy, long))?.outcome).toBe('waiting');
      unit = (await registry.units.claim('st_rare#all', holder))!;
    }
    // Two old strikes, then one now: the count starts again at 1.
    expect(await registry.units.strike(unit, holder, 'died', policy)).toEqual({
      outcome: 'waiting',
      strikes: 1,
      why: 'died',
    });
  });
});

describe('the open watchdog', () => {
  it('an open stuck past its deadline raises stream.unmonitored naming the stage; the first media clears it', async () => {
    const logger = pino({ level: 'silent' });
    const now = new Date().toISOString();
    const stream: StreamRecord = {
      id: 'st_stuck',
      owner: 'me',
      url: fixturePath('clean.ts'),
      name: 'stuck',
      detectors: [...DEFECT_TYPES],
      thresholds: {},
      labels: {},
      expect: { audio: true, video: true },
      units: [{ group: 'all', detectors: [...DEFECT_TYPES] }],
      state: 'active',
      createdAt: now,
      updatedAt: now,
    };
    // An open gate that grants nothing until the test says so (a worker whose opens never finish).
    let grant: (() => void) | null = null;
    const gate = {
      acquire: (_urgent: boolean, signal?: AbortSignal) =>
        new Promise<() => void>((resolve, reject) => {
          grant = () => resolve(() => {});
          signal?.addEventListener('abort', () => reject(new Error('stopped')));
        }),
    };
    const security = { localMode: true, allowFiles: true, allowedNetworks: [] };
    const supervisor = new StreamSupervisor(
      {
        unitId: 'st_stuck#all',
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
        security,
        workerId: 'w-stuck',
        proxy: new GuardProxy(security, logger),
        openGate: gate,
        openDeadlineSeconds: 2,
      },
    );
    supervisor.start();
    const raised = await until(
      'stream.unmonitored raised',
      20,
      async () =>
        (await registry.alarms.openFor(stream.id)).find((a) => a.event.type === 'stream.unmonitored')?.event,
    );
    expect(raised.severity).toBe('critical');
    expect(raised.owner).toBe('me');
    expect(raised.detail).toMatchObject({ state: 'stuck', stage: 'waiting for an open slot' });
    expect(raised.detail.reason).toMatch(/^stuck waiting for an open slot for \d+ s on worker w-stuck$/);
    expect(supervisor.stuck?.stage).toBe('waiting for an open slot');

    (grant as unknown as () => void)();
    await until('the file analysed to its end', 60, () =>
      supervisor.state === 'completed' ? true : undefined,
    );
    await supervisor.stop();
    const history = (await registry.alarms.recent(stream.id, 20)).filter(
      (e) => e.type === 'stream.unmonitored',
    );
    expect(history.map((e) => e.state).sort()).toEqual(['cleared', 'raised']);
    expect(history.every((e) => e.dedupKey === raised.dedupKey)).toBe(true);
    expect(
      (await registry.alarms.openFor(stream.id)).filter((a) => a.event.type === 'stream.unmonitored'),
    ).toEqual([]);
    expect(supervisor.stuck).toBeNull();
  }, 90_000);
});
