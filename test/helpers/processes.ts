/** Process helpers for tests that really kill things: is a pid alive, what did it spawn. */
import { readdirSync, readFileSync } from 'node:fs';

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Every descendant of a process (from every /proc/<pid>/stat's parent field: a thread's own
 * `children` file misses processes forked from its other threads), children first.
 */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(parent) ?? [];
      list.push(Number(entry));
      children.set(parent, list);
    } catch {
      // The process ended while we looked.
    }
  }
  const walk = (p: number): number[] => (children.get(p) ?? []).flatMap((c) => [c, ...walk(c)]);
  return walk(pid);
}
