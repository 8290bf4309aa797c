/**
 * Starts a worker_threads Worker on a module beside the caller: compiled, the `.js` file; from
 * the TypeScript sources (tests and benchmarks run them) through tsx's loader, registered inside
 * the thread.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function startThread(callerUrl: string, name: string, options: WorkerOptions = {}): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, callerUrl), options);
  const source = JSON.stringify(new URL(`./${name}.ts`, callerUrl).href);
  return new Worker(
    `import('tsx/esm/api').then(({ register }) => { register(); return import(${source}); });`,
    { ...options, eval: true },
  );
}
