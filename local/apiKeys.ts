/**
 * Local-mode API keys: STREAMQC_API_KEYS when set, otherwise one key made at first start, kept
 * (mode 0600) in the data directory and printed once.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseApiKeys } from '../shared/config.js';

export interface LocalKeys {
  /** API key → owner. */
  keys: Map<string, string>;
  /** Set only when a key was created by this call (so it can be printed once). */
  created?: { owner: string; key: string };
}

export function loadOrCreateApiKeys(
  dataDir: string,
  env: Record<string, string | undefined> = process.env,
): LocalKeys {
  if (env.STREAMQC_API_KEYS) return { keys: parseApiKeys(env.STREAMQC_API_KEYS) };
  const file = join(dataDir, 'api-keys');
  if (existsSync(file)) return { keys: parseApiKeys(readFileSync(file, 'utf8').trim()) };
  const key = `sqk_${randomBytes(24).toString('base64url')}`;
  writeFileSync(file, `local:${key}\n`, { mode: 0o600 });
  return { keys: new Map([[key, 'local']]), created: { owner: 'local', key } };
}
