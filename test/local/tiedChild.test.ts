/**
 * The demo's and the benchmarks' feeds die with the process that started them, even when it is
 * killed with SIGKILL (no exit handler runs): a parent is killed for real here, and its child must
 * go with it; a plain child of the same parent lives on (the reason for spawnTied).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/runCli.js';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const leftovers: number[] = [];
afterAll(() => {
  for (const pid of leftovers) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

/** A parent process that starts `sleep 600` (tied or not), prints the child's pid, and waits. */
async function parentWithChild(
  tied: boolean,
): Promise<{ parent: number; child: number; gone: Promise<void> }> {
  const code = tied
    ? "const { spawnTied } = await import('./local/tiedChild.ts'); const c = spawnTied('sleep', ['600'], { stdio: 'ignore' });"
    : "const { spawn } = await import('node:child_process'); const c = spawn('sleep', ['600'], { stdio: 'ignore' });";
  const parent = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `${code} console.log(c.pid); setInterval(() => {}, 1000);`,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const gone = new Promise<void>((r) => parent.once('exit', () => r()));
  const line = await new Promise<string>((resolve) =>
    createInterface({ input: parent.stdout! }).once('line', resolve),
  );
  const child = Number(line);
  leftovers.push(child);
  return { parent: parent.pid!, child, gone };
}

/** Polls until `pid` is gone, or 10 s. */
async function goneWithin(pid: number): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

describe.runIf(process.platform === 'linux')('spawnTied', () => {
  it('kills the child when its parent is SIGKILLed; a plain child lives on', async () => {
    const tied = await parentWithChild(true);
    const plain = await parentWithChild(false);
    expect(alive(tied.child)).toBe(true);
    process.kill(tied.parent, 'SIGKILL');
    process.kill(plain.parent, 'SIGKILL');
    await Promise.all([tied.gone, plain.gone]);

    expect(await goneWithin(tied.child)).toBe(true);
    expect(alive(plain.child)).toBe(true);
  });
});
