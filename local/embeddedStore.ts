/**
 * The embedded DynamoDB-compatible store for local mode and tests (dynalite on LevelDB): real
 * DynamoDB wire protocol on 127.0.0.1, data kept in a directory across restarts.
 */
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';

/** Longest close waits for clients to hang up before closing anyway. */
const CLOSE_DRAIN_MS = 3000;
/** Time left for operations whose client hung up mid-request to finish. */
const SETTLE_MS = 100;

export interface EmbeddedStore {
  endpoint: string;
  close(): Promise<void>;
}

/**
 * Starts the store.
 * @param dataDir where LevelDB keeps the tables; undefined keeps them in memory (tests).
 */
export async function startEmbeddedStore(dataDir?: string, port = 0): Promise<EmbeddedStore> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const server = dynalite({ path: dataDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    close: async () => {
      // A client that went away mid-request (a killed worker, a destroyed SDK client) leaves its
      // operation running; dynalite's close waits for its connections, not for such operations,
      // and one cut off by the closed database throws uncaught. Let them finish first.
      server.closeIdleConnections();
      for (let waited = 0; waited < CLOSE_DRAIN_MS; waited += 20) {
        const open = await new Promise<number>((r) => server.getConnections((_e, n) => r(n)));
        if (open === 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
      });
    },
  };
}
