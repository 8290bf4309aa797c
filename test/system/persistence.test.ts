/** The local stack keeps what was registered across a restart, with the same API key. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { startLocalStack } from '../../local/localStack.js';

describe('local stack restart', () => {
  it('still knows a registered stream after a restart, and prints the key only the first time', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'streamqc-persist-'));
    const options = {
      dataDir,
      port: 0,
      workers: 1,
      logger: pino({ level: 'silent' }),
      workerEnv: { STREAMQC_CONSOLE: '0' },
    };
    const first = await startLocalStack(options);
    const created = await fetch(`${first.url}/streams`, {
      method: 'POST',
      headers: { authorization: `Bearer ${first.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'udp://127.0.0.1:9', name: 'kept' }),
    });
    const { id } = (await created.json()) as { id: string };
    await first.stop();

    const second = await startLocalStack(options);
    const again = await fetch(`${second.url}/streams/${id}`, {
      headers: { authorization: `Bearer ${first.apiKey}` },
    });
    const body = (await again.json()) as { name: string };
    await second.stop();

    expect(first.createdKey).toBe(true);
    expect(second.createdKey).toBe(false);
    expect(second.apiKey).toBe(first.apiKey);
    expect(again.status).toBe(200);
    expect(body.name).toBe('kept');
  });
});
