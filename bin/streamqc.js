#!/usr/bin/env node
// Entry point of the `streamqc` command: builds dist/ on first use, then runs the compiled CLI.
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureBuild } from '../scripts/ensure-build.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (!ensureBuild()) process.exit(1);
const { main } = await import(pathToFileURL(join(root, 'dist', 'cli', 'main.js')).href);
process.exitCode = await main(process.argv.slice(2));
