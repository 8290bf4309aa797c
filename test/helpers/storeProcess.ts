/**
 * The embedded store in a process of its own, for tests whose own thread must not be the one
 * answering the registry (a blocked main thread; a store that is killed, not closed).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ROOT } from './runCli.js';

export interface StoreProcess {
  endpoint: string;
  child: ChildProcess;
  kill(): Promise<void>;
}

/** Starts `local/embeddedStore.ts` in a child process; resolves with its endpoint. */
export async function startStoreProcess(): Promise<StoreProcess> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      "const { startEmbeddedStore } = await import('./local/embeddedStore.ts'); const s = await startEmbeddedStore(); console.log(s.endpoint);",
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const endpoint = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the store process exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', resolve);
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    endpoint,
    child,
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
