/**
 * The worker image's identity, from what really goes into it: the worker's and shared code, the
 * Dockerfile and FFmpeg build script, the TypeScript settings, the runtime dependencies (package
 * entries of the lockfile that are not dev-only, and `dependencies` of package.json) and the
 * compiler's version. A devDependency bump (a test runner, a linter, the CDK itself) leaves it as it
 * was, so `cdk deploy` does not roll every task of the fleet for a change that ships nothing.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Folders and files whose every byte goes into the image (Markdown excepted). */
const SOURCES = ['shared', 'worker', 'tsconfig.json', 'tsconfig.worker.json'];

function files(root: string, path: string): string[] {
  const full = join(root, path);
  try {
    return readdirSync(full, { withFileTypes: true })
      .flatMap((e) => files(root, join(path, e.name)))
      .sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') return path.endsWith('.md') ? [] : [path];
    throw e;
  }
}

interface LockEntry {
  version?: string;
  integrity?: string;
  dev?: boolean;
}

export function workerImageHash(root: string): string {
  const hash = createHash('sha256');
  for (const path of SOURCES.flatMap((p) => files(root, p))) {
    hash.update(`${path}\0`);
    hash.update(readFileSync(join(root, path)));
  }
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  hash.update(JSON.stringify({ type: pkg.type, dependencies: pkg.dependencies, engines: pkg.engines }));
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  const packages = lock.packages as Record<string, LockEntry>;
  const runtime = Object.keys(packages)
    .filter((name) => name !== '' && !packages[name].dev)
    .sort()
    .map((name) => [name, packages[name].version, packages[name].integrity]);
  hash.update(JSON.stringify(runtime));
  // The compiler is a devDependency, but it writes the image's JavaScript.
  hash.update(String(packages['node_modules/typescript']?.version));
  return hash.digest('hex');
}
