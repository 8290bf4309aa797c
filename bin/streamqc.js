#!/usr/bin/env node
// Entry point of the `streamqc` command: builds dist/ on first use, then runs the compiled CLI.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = spawnSync(process.execPath, [join(root, 'scripts', 'ensure-build.mjs')], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
if (built.status !== 0) process.exit(built.status ?? 1);
const { main } = await import(pathToFileURL(join(root, 'dist', 'worker', 'cli', 'main.js')).href);
process.exitCode = await main(process.argv.slice(2));
