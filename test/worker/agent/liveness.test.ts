/**
 * Liveness that load cannot starve: a worker keeps its leases while its main thread is blocked
 * (the lease thread renews them), and still fences itself when the registry is really gone.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { workerConfig } from '../../../shared/config.js';
import { Registry, type UnitItem } from '../../../shared/registry/Registry.js';
import type { StreamRecord, UnitState } from '../../../shared/streamSpec.js';
import type { RunnerFactory, UnitRunner } from '../../../worker/agent/WorkerAgent.js';
import { WorkerAgent } from '../../../worker/agent/WorkerAgent.js';
import { Outbox } from '../../../worker/publishers/Outbox.js';
import { until } from '../../helpers/stackClient.js';
import { startStoreProcess } from '../../helpers/storeProcess.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const logger = pino({ level: 'silent' });
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A unit runner that decodes nothing: the agent's leases are what is under test. */
const idleRunner: RunnerFactory = (unit: UnitItem) => {
  let stopped = false;
  const runner: UnitRunner = {
    unit,
    log: logger,
    lagSeconds: 0,
    frames: 0,
    restarts: 0,
    get state(): UnitState {
      return stopped ? 'backoff' : 'running';
    },
    cpuSeconds: () => 0,
    start() {},
    async stop() {
      stopped = true;
    },
  };
  return runner;
};

async function stackWithOneStream(prefix: string) {
  // In a process of its own: the blocked thread must not be the one that answers the registry.
  const store = await startStoreProcess();
  const registry = new Registry({ endpoint: store.endpoint, region: 'local', tablePrefix: prefix });
  await registry.ensureTables();
  const now = new Date().toISOString();
  const record: StreamRecord = {
    id: `st_${prefix}live`,
    owner: 'owner-a',
    url: 'udp://127.0.0.1:5000',
    name: 'live',
    detectors: ['video.black'],
    thresholds: {},
    labels: {},
    expect: { audio: true, video: true },
    units: [{ group: 'all', detectors: ['video.black'] }],
    state: 'active',
    createdAt: now,
    updatedAt: now,
  };
  await registry.streams.create(record);
  return { store, registry };
}

function startAgent(registry: Registry, workerId: string) {
  const config = {
    ...workerConfig({}),
    workerId,
    leaseSeconds: 2,
    heartbeatSeconds: 0.25,
    resendSeconds: 0,
  };
  const agent = new WorkerAgent(
    config,
    { localMode: true, allowFiles: false, allowedNetworks: [] },
    registry,
    new Outbox(registry, [], logger),
    logger,
    idleRunner,
  );
  return agent;
}

/** Blocks this thread (the agent's main thread) as a CPU-bound media burst would. */
function blockMainThread(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

describe('worker liveness under load', () => {
  it('keeps its leases and its units while its event loop is blocked for several leases', async () => {
    const { store, registry } = await stackWithOneStream('busy');
    const agent = startAgent(registry, 'w-busy');
    cleanups.push(
      () => store.kill(),
      () => registry.destroy(),
      () => agent.drain(),
    );
    await agent.start();
    await until('the unit to run', 20, () => agent.supervisors.size === 1);
    const before = (await registry.fleet.all())[0]?.leaseUntil ?? 0;

    const blockedAt = Date.now();
    blockMainThread(5000); // 2.5 leases, 20 heartbeats
    const blockedFor = Date.now() - blockedAt;
    await new Promise((r) => setTimeout(r, 700)); // a fence check (every 500 ms) runs now

    const [member] = await registry.fleet.all();
    expect(blockedFor).toBeGreaterThanOrEqual(5000);
    expect(member?.reaped).toBeFalsy();
    // Renewed while the main thread could not run: the lease thread kept its schedule.
    expect(member?.leaseUntil ?? 0).toBeGreaterThan(before + 4000);
    expect(agent.supervisors.size).toBe(1);
    expect(agent.moves.stopped).toBe(0);
    expect(agent.leaseRenewals.ok).toBeGreaterThan(10);
  });

  it('still stops its units itself when the registry is really out of reach', async () => {
    const { store, registry } = await stackWithOneStream('cut');
    const agent = startAgent(registry, 'w-cut');
    cleanups.push(
      () => registry.destroy(),
      () => agent.drain(),
    );
    await agent.start();
    await until('the unit to run', 20, () => agent.supervisors.size === 1);

    await store.kill();

    await until('the worker to fence itself', 20, () => agent.supervisors.size === 0);
    // The fence needs no failed answer (half a lease without a renewal is enough); the renewals
    // still trying meanwhile do fail once the SDK gives up on the dead endpoint.
    await until('a renewal to fail', 30, () => agent.leaseRenewals.failed > 0);
    expect(agent.supervisors.size).toBe(0);
  });
});
