/** Finds the streamqc checkout (the folder with our package.json), from source or from dist/. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function projectRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'streamqc') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no streamqc package.json above ${from}`);
    dir = parent;
  }
}
