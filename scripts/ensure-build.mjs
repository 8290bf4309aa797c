#!/usr/bin/env node
// Compiles the TypeScript sources to dist/ when dist/ is missing or older than any source file,
// so `npx streamqc` and `npm start` work straight after `npm install` and after a `git pull`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stamp = join(root, 'dist', '.built');

// Run at every start of the command: paths by concatenation (path.join normalises each one, which
// cost more than the ~200 stats).
function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts') || entry.name.endsWith('.c'))
      newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Builds dist/ if it is stale (or always, with `force`: `npm run build`), then stamps it, so the
 * processes started next (workers run this check too) do not compile it again at the same time.
 * Returns false (after printing why) when it cannot.
 */
export function ensureBuild(force = false) {
  const sources = ['shared', 'worker', 'dispatcher', 'infra', 'cli', 'local']
    .map((d) => join(root, d))
    .filter(existsSync);
  // An installed build (the worker image) ships dist/ without the sources: nothing to compare.
  if (sources.length === 0) return existsSync(stamp);
  const newest = Math.max(...sources.map(newestSource), statSync(join(root, 'tsconfig.build.json')).mtimeMs);
  if (!force && existsSync(stamp) && statSync(stamp).mtimeMs >= newest) return true;
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc)) {
    console.error('TypeScript is not installed yet: run `npm install` first.');
    return false;
  }
  const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], {
    stdio: 'inherit',
  });
  if (result.status !== 0) return false;
  // `streamqc analyze` as one file for V8's code cache (cli/analyzeBundle.ts); without it, analyze
  // loads dist/ as modules, only slower to start.
  const bundled = spawnSync(process.execPath, [join(root, 'scripts', 'bundle-analyze.mjs')], {
    stdio: 'inherit',
  });
  if (bundled.status !== 0)
    console.error('streamqc: analyze bundle not built (analyze loads dist/ as modules)');
  // ffmpeg's log a line per write (worker/ffmpeg/linebuffer.c), where a C compiler is; optional.
  spawnSync(process.execPath, [join(root, 'scripts', 'build-linebuffer.mjs')], { stdio: 'inherit' });
  writeFileSync(stamp, '');
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exit(ensureBuild(process.argv.includes('--force')) ? 0 : 1);
}
