/**
 * The local stack: embedded registry, the dispatcher's HTTP adapter on 127.0.0.1, and worker
 * processes started by the local launcher. Same handler, registry code and worker code as on AWS;
 * only the edges differ (store endpoint, launcher, publishers).
 */

import { writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fleetCheck } from '../dispatcher/fleetCheck.js';
import { createHandler } from '../dispatcher/handler.js';
import { createHttpServer } from '../dispatcher/httpServer.js';
import { setAwsCallerRole } from '../shared/awsCallLog.js';
import { dispatcherConfig, securityConfig, workerConfig } from '../shared/config.js';
import type { Logger } from '../shared/logger.js';
import { FolderMediaStore, mediaStoreFrom } from '../shared/media/MediaStore.js';
import { projectRoot } from '../shared/projectRoot.js';
import { Registry } from '../shared/registry/Registry.js';
import { loadOrCreateApiKeys } from './apiKeys.js';
import { type EmbeddedStore, startEmbeddedStore } from './embeddedStore.js';
import { LocalLauncher } from './LocalLauncher.js';

/** How often the local stack runs the fleet check (AWS: once a minute, on a schedule). */
const FLEET_CHECK_MS = 5000;
/** Longest the stack waits at stop for API requests still being answered. */
const STOP_DRAIN_MS = 5000;

export interface LocalStackOptions {
  dataDir: string;
  port: number;
  /** Workers to start with (the dispatcher adds more as streams need them). */
  workers: number;
  logger: Logger;
  /** Extra environment for workers (tests shorten leases, pick publishers, …). */
  workerEnv?: Record<string, string>;
  stdout?: NodeJS.WritableStream;
}

export interface LocalStack {
  url: string;
  port: number;
  storeEndpoint: string;
  apiKey: string | null;
  createdKey: boolean;
  ndjsonPath: string;
  registry: Registry;
  launcher: LocalLauncher;
  stop(): Promise<void>;
}

/** Workers the local stack runs at most by default: one per core, and at least two. */
export function localMaxWorkers(): number {
  return Math.max(2, availableParallelism());
}

/** Starts everything; resolves once the API listens. */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const env: Record<string, string | undefined> = { ...process.env, STREAMQC_LOCAL: '1' };
  // This process plays the dispatcher Lambda (API and fleet check).
  setAwsCallerRole('dispatcher');
  const security = securityConfig(env);
  // The local fleet never outgrows the machine: more processes on the same cores add no capacity.
  const dispatcher = {
    ...dispatcherConfig(env),
    ...(env.STREAMQC_MAX_WORKERS ? {} : { maxWorkers: localMaxWorkers() }),
  };
  const worker = workerConfig(env);
  const store: EmbeddedStore = await startEmbeddedStore(join(options.dataDir, 'registry'));
  const registry = new Registry({ endpoint: store.endpoint, region: 'local', tablePrefix: 'streamqc' }, env);
  await registry.ensureTables();
  // Where operator commands (`streamqc outbox`) find the running stack's registry.
  writeFileSync(join(options.dataDir, 'registry.json'), `${JSON.stringify({ endpoint: store.endpoint })}\n`);
  const { keys, created } = loadOrCreateApiKeys(options.dataDir, env);
  const ndjsonPath = process.env.STREAMQC_NDJSON_PATH || join(options.dataDir, 'events.ndjson');
  // Thumbnails and alarm evidence: workers write them, the API reads them.
  const mediaDir = join(options.dataDir, 'media');
  const launcher = new LocalLauncher({
    command: [
      process.execPath,
      ...(process.env.STREAMQC_WORKER_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
      join(projectRoot(), 'bin', 'streamqc.js'),
      'worker',
    ],
    env: {
      STREAMQC_LOCAL: '1',
      STREAMQC_DYNAMODB_ENDPOINT: store.endpoint,
      STREAMQC_NDJSON_PATH: ndjsonPath,
      STREAMQC_MEDIA_DIR: mediaDir,
      AWS_REGION: 'local',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      // Each worker measures its headroom against its share of the machine.
      ...(env.STREAMQC_CPU_CORES
        ? {}
        : { STREAMQC_CPU_CORES: String(Math.max(0.5, availableParallelism() / dispatcher.maxWorkers)) }),
      ...(options.workerEnv ?? {}),
    },
    logDir: join(options.dataDir, 'logs'),
    logger: options.logger,
    maxWorkers: dispatcher.maxWorkers,
    stdout: options.stdout,
  });
  const apiHandler = createHandler({
    registry,
    security,
    launcher,
    logger: options.logger,
    version: process.env.npm_package_version ?? '0.1.0',
    detectorGroups: worker.detectorGroups,
    workerBudget: dispatcher.workerBudget,
    quota: dispatcher.quota,
    minWorkers: Math.max(dispatcher.minWorkers, options.workers),
    maxWorkers: dispatcher.maxWorkers,
    // STREAMQC_MEDIA_BUCKET (with STREAMQC_S3_ENDPOINT) puts the pictures in S3 as on AWS.
    media: mediaStoreFrom(env) ?? new FolderMediaStore(mediaDir),
  });
  // Requests still being answered when the stack stops finish before the store closes under them.
  let answering = 0;
  const handler: typeof apiHandler = (request) => {
    answering++;
    return apiHandler(request).finally(() => {
      answering--;
    });
  };
  const server: Server = createHttpServer({
    handler,
    apiKeys: keys,
    maxBodyBytes: dispatcher.maxBodyBytes,
    logger: options.logger,
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolveListen());
  });
  const port = (server.address() as AddressInfo).port;
  await launcher.ensureWorkers(options.workers);
  // Units left waiting (a worker died, the fleet is full) ask for capacity and are reported.
  const minWorkers = Math.max(dispatcher.minWorkers, options.workers);
  let checking: Promise<unknown> | null = null;
  const fleetTimer = setInterval(() => {
    if (checking) return;
    checking = fleetCheck({
      registry,
      launcher,
      logger: options.logger,
      budget: dispatcher.workerBudget,
      minWorkers,
      maxWorkers: dispatcher.maxWorkers,
    })
      .catch((e) => options.logger.warn({ err: (e as Error).message }, 'fleet check failed'))
      .finally(() => {
        checking = null;
      });
  }, FLEET_CHECK_MS);
  fleetTimer.unref();
  options.logger.info({ port, workers: options.workers, dataDir: options.dataDir }, 'local stack started');
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    storeEndpoint: store.endpoint,
    apiKey: created?.key ?? [...keys.keys()][0] ?? null,
    createdKey: Boolean(created),
    ndjsonPath,
    registry,
    launcher,
    async stop() {
      clearInterval(fleetTimer);
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await launcher.stopAll();
      // Nothing may still be asking the store when it closes: a query cut off by a closed
      // database throws from inside the store (LEVEL_DATABASE_NOT_OPEN), uncaught.
      await checking;
      for (let waited = 0; answering > 0 && waited < STOP_DRAIN_MS; waited += 20)
        await new Promise((r) => setTimeout(r, 20));
      registry.destroy();
      await store.close();
    },
  };
}
