#!/usr/bin/env node
// Makes sure ffmpeg and ffprobe are on PATH; installs Debian's ffmpeg when we are root on Debian,
// otherwise stops with the exact command to run.
import { execFileSync, spawnSync } from 'node:child_process';

function has(cmd) {
  return spawnSync(cmd, ['-version'], { stdio: 'ignore' }).status === 0;
}

if (has('ffmpeg') && has('ffprobe')) process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
if (!isRoot || !hasApt) {
  console.error(
    'streamqc needs ffmpeg and ffprobe on PATH. Install them, e.g. on Debian/Ubuntu:\n' +
      '  sudo apt-get update && sudo apt-get install -y --no-install-recommends ffmpeg',
  );
  process.exit(1);
}
console.error('ffmpeg not found: installing Debian package ffmpeg (apt-get)…');
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'ffmpeg'], {
  stdio: ['ignore', 'ignore', 'inherit'],
  env,
});
if (!has('ffmpeg') || !has('ffprobe')) {
  console.error('apt-get finished but ffmpeg is still not on PATH');
  process.exit(1);
}
