/**
 * The embedded DynamoDB-compatible store for local mode and tests (dynalite on LevelDB): real
 * DynamoDB wire protocol on 127.0.0.1, data kept in a directory across restarts.
 */
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';

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
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  };
}
