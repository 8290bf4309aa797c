#!/usr/bin/env node
// Makes sure Debian's Chromium is at /usr/bin/chromium for the console's browser test
// (test/console/console.test.ts, driven by playwright-core, which never downloads a browser of its
// own). Installs the Debian package when we are root on Debian, otherwise stops with the command.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const CHROMIUM = process.env.STREAMQC_CHROMIUM || '/usr/bin/chromium';
if (existsSync(CHROMIUM)) process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
if (!isRoot || !hasApt) {
  console.error(
    `The console's browser test needs Chromium at ${CHROMIUM} (or STREAMQC_CHROMIUM). On Debian/Ubuntu:\n` +
      '  sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium',
  );
  process.exit(1);
}
console.error('chromium not found: installing Debian package chromium (apt-get)…');
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
const install = () =>
  spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env,
  }).status === 0;
// The package lists may be stale on a fresh machine: refresh them once if the first try fails.
if (!install()) {
  execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  if (!install()) process.exit(1);
}
if (!existsSync(CHROMIUM)) {
  console.error(`apt-get finished but ${CHROMIUM} is still missing`);
  process.exit(1);
}
