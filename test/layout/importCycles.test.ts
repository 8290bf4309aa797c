/**
 * No import cycle among the project's modules (value imports; `import type` is erased at build and
 * cannot cycle at run time). A cycle is how a module ends up doing two modules' jobs.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../shared/projectRoot.js';

const root = projectRoot();
const FOLDERS = ['worker', 'dispatcher', 'shared', 'infra', 'cli', 'local'];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The project modules a file imports for their values. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?[^;]*?from\s+'(\.[^']+)'/gms)) {
    if (m[1]) continue;
    // `import { type A, type B }`: type-only too.
    const clause = /\{([^}]*)\}/.exec(m[0])?.[1];
    if (
      clause &&
      !/^\s*(import|export)\s+\w/.test(m[0].replace(/\{[^}]*\}/, '')) &&
      clause.split(',').every((n) => !n.trim() || n.trim().startsWith('type '))
    )
      continue;
    found.push(resolve(dirname(file), m[2].replace(/\.js$/, '.ts')));
  }
  return found;
}

describe('the import graph', () => {
  it('has no cycle', () => {
    const files = FOLDERS.flatMap((f) => sources(join(root, f)));
    const graph = new Map(files.map((f) => [f, imports(f).filter((i) => files.includes(i))]));
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(root, f)).join(' → '));
        return;
      }
      state.set(file, 'visiting');
      for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of files) visit(file, []);
    expect(cycles).toEqual([]);
    expect(files.length).toBeGreaterThan(100);
  });
});
