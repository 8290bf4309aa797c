/**
 * A worker whose drain cannot finish (the registry stops answering mid-flight) still exits when
 * its drain deadline passes, with status 1, instead of hanging until ECS kills it. A real worker
 * process, a real store behind a TCP relay the test freezes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedStore, startEmbeddedStore } from '../../local/embeddedStore.js';
import { projectRoot } from '../../shared/projectRoot.js';
import { Registry } from '../../shared/registry/Registry.js';
import { until } from '../helpers/stackClient.js';

let store: EmbeddedStore;
let registry: Registry;
let relay: Server;
let frozen = false;
const sockets: Socket[] = [];
let worker: ChildProcess | null = null;

beforeAll(async () => {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  store = await startEmbeddedStore();
  registry = new Registry({ endpoint: store.endpoint, region: 'local', tablePrefix: 'drain' });
  await registry.ensureTables();
  const target = new URL(store.endpoint);
  // A relay to the store that, once frozen, swallows every byte: requests hang, nothing fails fast.
  relay = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    sockets.push(client, upstream);
    client.on('data', (chunk) => {
      if (!frozen) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!frozen) client.write(chunk);
    });
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', () => r()));
});

afterAll(async () => {
  worker?.kill('SIGKILL');
  for (const s of sockets) s.destroy();
  relay.close();
  registry.destroy();
  await store.close();
});

describe('the drain deadline', () => {
  it('exits the worker with status 1 when the drain cannot finish in time', async () => {
    const port = (relay.address() as { port: number }).port;
    worker = spawn(process.execPath, [join(projectRoot(), 'dist', 'worker', 'main.js')], {
      env: {
        ...process.env,
        STREAMQC_LOCAL: '1',
        STREAMQC_DYNAMODB_ENDPOINT: `http://127.0.0.1:${port}`,
        STREAMQC_TABLE_PREFIX: 'drain',
        AWS_REGION: 'local',
        STREAMQC_WORKER_ID: 'w-drain',
        STREAMQC_HEARTBEAT_SECONDS: '0.5',
        STREAMQC_DRAIN_SECONDS: '3',
        STREAMQC_CONSOLE: '0',
        STREAMQC_SCALE_HARNESS_STANDIN_DIR: mkdtempSync(join(tmpdir(), 'streamqc-drain-')),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    worker.stderr?.on('data', (c) => (stderr += c));
    const exited = new Promise<number | null>((r) => worker!.once('exit', (code) => r(code)));
    await until('the worker to join the fleet', 30, async () =>
      (await registry.fleet.all()).some((m) => m.workerId === 'w-drain') ? true : undefined,
    );

    frozen = true;
    const signalledAt = Date.now();
    worker.kill('SIGTERM');
    const code = await exited;
    const took = (Date.now() - signalledAt) / 1000;

    expect(code).toBe(1);
    expect(took).toBeGreaterThan(2.5);
    expect(took).toBeLessThan(10);
    expect(stderr).toContain('drain took too long; exiting');
  }, 60_000);
});
