#!/usr/bin/env node
// Makes sure the Debian tools some tests measure against are there: Chromium at /usr/bin/chromium
// for the console's browser test (test/console/console.test.ts, driven by playwright-core, which
// never downloads a browser of its own), and loudgain, the command line of libebur128 (the EBU
// R128 reference library) for the loudness meter's test. Installs the missing Debian packages when
// we are root on Debian, otherwise stops with the command.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CHROMIUM = process.env.STREAMQC_CHROMIUM || '/usr/bin/chromium';
const present = {
  chromium: existsSync(CHROMIUM),
  loudgain: spawnSync('loudgain', ['--version'], { stdio: 'ignore' }).status === 0,
};
const missing = Object.keys(present).filter((name) => !present[name]);
if (missing.length === 0) process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
if (!isRoot || !hasApt) {
  console.error(
    `The tests need ${missing.join(' and ')} (Chromium at ${CHROMIUM}, or STREAMQC_CHROMIUM). On Debian/Ubuntu:\n` +
      `  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing.join(' ')}`,
  );
  process.exit(1);
}
console.error(
  `${missing.join(' and ')} not found: installing Debian packages ${missing.join(' ')} (apt-get)…`,
);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
const install = () =>
  spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
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
