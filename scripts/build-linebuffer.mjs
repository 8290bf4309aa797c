#!/usr/bin/env node
// Builds worker/ffmpeg/linebuffer.c into dist/native/linebuffer.so when a C compiler is present
// (run by ensure-build after tsc; the worker image builds it in its FFmpeg stage). Optional: without
// it the converter's ffmpeg writes its log unbuffered, as FFmpeg itself does, for about 2 % more CPU.
// The library is kept only if ffmpeg runs with it preloaded and says nothing about it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE = join(root, 'worker', 'ffmpeg', 'linebuffer.c');
// Where worker/converter/lineBuffer.ts looks for it.
const LIBRARY = join(root, 'dist', 'native', 'linebuffer.so');

/** Builds the library; returns why not when it is not built (no compiler, no ffmpeg, a failure). */
function buildLineBuffer() {
  const cc = ['cc', 'gcc', 'clang'].find(
    (c) => spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0,
  );
  if (!cc) return 'no C compiler (cc, gcc or clang) on PATH';
  mkdirSync(dirname(LIBRARY), { recursive: true });
  const built = spawnSync(cc, ['-shared', '-fPIC', '-O2', '-o', LIBRARY, SOURCE, '-ldl'], {
    encoding: 'utf8',
  });
  if (built.status !== 0) return `${cc} failed: ${built.stderr.trim().slice(0, 300)}`;
  const tried = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'info', '-version'], {
    encoding: 'utf8',
    env: { ...process.env, LD_PRELOAD: LIBRARY },
  });
  if (tried.status !== 0 || /linebuffer|preload/i.test(tried.stderr)) {
    rmSync(LIBRARY, { force: true });
    return `ffmpeg does not run with it: ${tried.stderr.trim().slice(0, 300)}`;
  }
  return null;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const why = buildLineBuffer();
  if (why) console.error(`streamqc: ffmpeg's log stays unbuffered (${why})`);
  process.exit(0);
}
