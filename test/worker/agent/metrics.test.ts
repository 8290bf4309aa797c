/** What a worker tells Prometheus and CloudWatch. */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedStore, startEmbeddedStore } from '../../../local/embeddedStore.js';
import { workerConfig } from '../../../shared/config.js';
import { Registry } from '../../../shared/registry/Registry.js';
import { EmfReporter, emfRecord } from '../../../worker/agent/emfMetrics.js';
import { startMetricsServer } from '../../../worker/agent/metricsServer.js';
import { WorkerAgent } from '../../../worker/agent/WorkerAgent.js';
import { Outbox } from '../../../worker/publishers/Outbox.js';

let store: EmbeddedStore;
let registry: Registry;

beforeAll(async () => {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  store = await startEmbeddedStore();
  registry = new Registry({ endpoint: store.endpoint, region: 'local', tablePrefix: 'metrics' });
  await registry.ensureTables();
});
afterAll(async () => {
  registry.destroy();
  await store.close();
});

describe('worker endpoints', () => {
  it('serves /healthz and Prometheus /metrics, and reports draining as unhealthy', async () => {
    const logger = pino({ level: 'silent' });
    const outbox = new Outbox(registry, [], logger);
    const config = { ...workerConfig({}), workerId: 'w-metrics' };
    const agent = new WorkerAgent(
      config,
      { localMode: true, allowFiles: false, allowedNetworks: [] },
      registry,
      outbox,
      logger,
    );
    await agent.start();
    const server = await startMetricsServer(agent, outbox, 0);
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

    const health = await (await fetch(`${base}/healthz`)).json();
    const metrics = await (await fetch(`${base}/metrics`)).text();
    await agent.drain();
    const drained = await fetch(`${base}/healthz`);
    server.close();

    expect(health).toMatchObject({ status: 'ok', workerId: 'w-metrics', streams: 0, opening: 0 });
    expect(health.eventLoopDelayP99Seconds).toBeGreaterThanOrEqual(0);
    expect(metrics).toMatch(/^# TYPE streamqc_streams gauge$/m);
    expect(metrics).toMatch(/^streamqc_streams 0$/m);
    expect(metrics).toMatch(/^streamqc_lease_moves_total\{kind="claimed"\} 0$/m);
    expect(metrics).toMatch(/^streamqc_event_loop_delay_p99_seconds \d/m);
    expect(metrics).toMatch(/^streamqc_opens_in_flight 0$/m);
    expect(metrics).toMatch(/^streamqc_cpu_cores \d/m);
    expect(drained.status).toBe(503);
  });
});

describe('CloudWatch embedded metric format', () => {
  it('declares LoadRatio, Streams, MaxLagSeconds, Heartbeats and UnitsNotRunning for the workers dimension', () => {
    const record = emfRecord(
      'streamqc',
      {
        streams: 3,
        budget: 6,
        maxLagSeconds: 1.234,
        deliveryFailures: 2,
        deadLetters: 0,
        unitsNotRunning: 1,
      },
      1_700_000_000_000,
      'Streamqc-prod',
    ) as { _aws: { CloudWatchMetrics: unknown[] } };

    expect(record._aws.CloudWatchMetrics[0]).toEqual({
      Namespace: 'streamqc',
      Dimensions: [['ServiceName']],
      Metrics: expect.arrayContaining([
        { Name: 'LoadRatio', Unit: 'None' },
        { Name: 'Heartbeats', Unit: 'Count' },
        { Name: 'UnitsNotRunning', Unit: 'Count' },
      ]),
    });
    expect(record).toMatchObject({
      ServiceName: 'Streamqc-prod',
      LoadRatio: 0.5,
      Streams: 3,
      MaxLagSeconds: 1.23,
      Heartbeats: 1,
      UnitsNotRunning: 1,
    });
  });
});

describe('the EMF reporter', () => {
  it('writes once a minute, with failures and dead letters as the change since the last line', () => {
    const lines: string[] = [];
    const reporter = new EmfReporter('streamqc', (l) => lines.push(l));
    const load = {
      streams: 2,
      budget: 8,
      maxLagSeconds: 0,
      deliveryFailures: 5,
      deadLetters: 1,
      unitsNotRunning: 0,
    };

    reporter.maybeWrite(load, 60_000);
    reporter.maybeWrite({ ...load, deliveryFailures: 9 }, 90_000); // too soon
    reporter.maybeWrite({ ...load, deliveryFailures: 9 }, 120_000);
    new EmfReporter(undefined, (l) => lines.push(l)).maybeWrite(load, 60_000); // no namespace: nothing

    expect(lines.map((l) => JSON.parse(l)).map((r) => [r.DeliveryFailures, r.DeadLetters])).toEqual([
      [5, 1],
      [4, 0],
    ]);
  });
});
