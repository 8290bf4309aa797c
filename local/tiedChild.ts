/**
 * Children that die with the process that started them, however it dies: the feeds of the demo
 * and of the benchmarks play in a loop for ever and do not notice a parent gone (FFmpeg ignores
 * SIGPIPE and a failed write of its progress), so a demo or benchmark killed with SIGKILL would
 * leave them sending. Linux's parent-death signal, set by util-linux's `setpriv` before it runs
 * the command, kills them with it. Where `setpriv` is missing, a plain child.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

let setpriv: string | null | undefined;

/** util-linux's setpriv on PATH (it sets --pdeathsig), or null. */
function findSetpriv(): string | null {
  if (setpriv !== undefined) return setpriv;
  setpriv = null;
  if (process.platform !== 'linux') return setpriv;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const path = join(dir, 'setpriv');
    if (dir && existsSync(path)) {
      setpriv = path;
      break;
    }
  }
  return setpriv;
}

/** `spawn(command, args, options)`, the child killed (SIGKILL) when this process dies. */
export function spawnTied(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  const wrapper = findSetpriv();
  return wrapper
    ? spawn(wrapper, ['--pdeathsig', 'KILL', '--', command, ...args], options)
    : spawn(command, args, options);
}
