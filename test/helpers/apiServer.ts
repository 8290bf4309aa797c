/**
 * An in-process dispatcher for API tests: the real handler behind the real local HTTP adapter on
 * 127.0.0.1, with the real registry code against the embedded DynamoDB-compatible store.
 */
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { createHandler } from '../../dispatcher/handler.js';
import { createHttpServer } from '../../dispatcher/httpServer.js';
import type { CapacityRequest, Launcher } from '../../dispatcher/launcher.js';
import { startEmbeddedStore } from '../../local/embeddedStore.js';
import type { OwnerQuota, SecurityConfig } from '../../shared/config.js';
import type { MediaStore } from '../../shared/media/MediaStore.js';
import { Registry } from '../../shared/registry/Registry.js';
import type { Resolver } from '../../shared/urlPolicy.js';

export interface TestApi {
  url: string;
  registry: Registry;
  launcherCalls: CapacityRequest[];
  call(
    method: string,
    path: string,
    options?: { key?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> },
    // biome-ignore lint/suspicious/noExplicitAny: JSON bodies; the assertions check their shape
  ): Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
}

export const KEYS = { alice: 'key-alice-0123456789', bob: 'key-bob-0123456789' };

export async function startTestApi(
  options: {
    security?: Partial<SecurityConfig>;
    resolver?: Resolver;
    maxBodyBytes?: number;
    quota?: OwnerQuota;
    /** Where the API finds thumbnails and evidence (absent: none kept). */
    media?: MediaStore;
  } = {},
): Promise<TestApi> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const store = await startEmbeddedStore();
  const registry = new Registry({ endpoint: store.endpoint, region: 'local', tablePrefix: `t${Date.now()}` });
  await registry.ensureTables();
  const launcherCalls: CapacityRequest[] = [];
  const launcher: Launcher = {
    ensureCapacity: async (request) => {
      launcherCalls.push(request);
    },
  };
  const logger = pino({ level: 'silent' });
  const handler = createHandler({
    registry,
    security: { localMode: false, allowFiles: false, allowedNetworks: [], ...options.security },
    launcher,
    logger,
    version: 'test',
    detectorGroups: '',
    workerBudget: 4,
    minWorkers: 1,
    maxWorkers: 10,
    quota: options.quota ?? { maxStreams: 1000, registrationsPerMinute: 10_000 },
    resolver: options.resolver ?? (async () => ['93.184.216.34']),
    media: options.media ?? null,
  });
  const server = createHttpServer({
    handler,
    apiKeys: new Map([
      [KEYS.alice, 'alice'],
      [KEYS.bob, 'bob'],
    ]),
    maxBodyBytes: options.maxBodyBytes ?? 16 * 1024,
    logger,
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    registry,
    launcherCalls,
    async call(method, path, opts = {}) {
      const key = opts.key === undefined ? KEYS.alice : opts.key;
      const response = await fetch(`${url}${path}`, {
        method,
        headers: {
          ...(key ? { authorization: `Bearer ${key}` } : {}),
          ...(opts.body !== undefined || opts.raw !== undefined
            ? { 'content-type': 'application/json' }
            : {}),
          ...(opts.headers ?? {}),
        },
        body: opts.raw ?? (opts.body !== undefined ? JSON.stringify(opts.body) : undefined),
        redirect: 'manual',
      });
      // Pictures and the console's files come as they are; everything else is JSON.
      const type = response.headers.get('content-type') ?? '';
      if (!type.startsWith('application/json') && response.status !== 302 && type) {
        const bytes = Buffer.from(await response.arrayBuffer());
        return { status: response.status, body: bytes, headers: response.headers };
      }
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      registry.destroy();
      await store.close();
    },
  };
}
