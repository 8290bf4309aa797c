/** The real registry code on an embedded store of its own, for tests that need only the registry. */
import { startEmbeddedStore } from '../../local/embeddedStore.js';
import { Registry } from '../../shared/registry/Registry.js';

export interface TestRegistry {
  registry: Registry;
  close(): Promise<void>;
}

/** A registry with fresh tables (prefix + time), on a store that `close()` stops. */
export async function startTestRegistry(prefix: string): Promise<TestRegistry> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const store = await startEmbeddedStore();
  const registry = new Registry({
    endpoint: store.endpoint,
    region: 'local',
    tablePrefix: `${prefix}${Date.now()}`,
  });
  await registry.ensureTables();
  return {
    registry,
    close: async () => {
      registry.destroy();
      await store.close();
    },
  };
}
