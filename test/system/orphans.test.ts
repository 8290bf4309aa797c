/**
 * The local stack's children never outlive it: when the main process is killed outright (SIGKILL,
 * no chance to clean up), its workers and their ffmpeg processes exit by themselves.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeClip } from '../helpers/clips.js';
import { freeUdpPort, UdpSender } from '../helpers/liveOrigin.js';
import { descendants, isAlive } from '../helpers/processes.js';
import { ROOT } from '../helpers/runCli.js';
import { callApi, until } from '../helpers/stackClient.js';

const dir = mkdtempSync(join(tmpdir(), 'streamqc-orphans-'));
let sender: UdpSender | null = null;

afterAll(() => sender?.stop());

describe('killing the local stack with SIGKILL', () => {
  it('leaves no worker or ffmpeg of it running after 15 s', async () => {
    const clip = join(dir, 'clip.ts');
    makeClip(clip, 10, '', { audio: false });
    sender = new UdpSender(clip, await freeUdpPort());
    sender.start();
    const stack = spawn(
      process.execPath,
      [join(ROOT, 'bin', 'streamqc.js'), 'start', '--data', join(dir, 'data'), '--workers', '1'],
      {
        env: {
          ...process.env,
          PORT: '0',
          STREAMQC_CONSOLE: '0',
          STREAMQC_API_KEYS: 'me:orphan-test-key-0123',
        },
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    let out = '';
    stack.stdout.on('data', (b) => {
      out += b;
    });
    const url = await until('the stack listening', 60, () => /local stack on (http:\/\/\S+)/.exec(out)?.[1]);
    const created = await callApi(url, 'orphan-test-key-0123', 'POST', '/streams', { url: sender.url });
    expect(created.status).toBe(201);
    const children = await until('a worker running ffmpeg', 60, () => {
      const all = descendants(stack.pid!);
      return all.length >= 2 ? all : undefined;
    });

    stack.kill('SIGKILL');
    const gone = await until('every child gone', 15, () =>
      children.every((pid) => !isAlive(pid)) ? true : undefined,
    ).catch(() => false);

    expect(children.filter((pid) => isAlive(pid))).toEqual([]);
    expect(gone).toBe(true);
  }, 120_000);
});
