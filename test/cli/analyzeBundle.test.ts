/**
 * `streamqc analyze` from its bundle with V8's code cache (cli/analyzeBundle.ts) answers exactly as
 * the modules in dist/ do; a full run leaves the compiled code for the next; a cache that is not
 * V8's (damaged, from elsewhere) is refused by V8 and replaced, never trusted.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixturePath, fixturesReady } from '../fixtures/generate.js';
import { ROOT, runCli } from '../helpers/runCli.js';

const CLI = join(ROOT, 'dist', 'cli');
/** The cache of the bundle as it is now (cli/analyzeBundle.ts names it by the bundle's size and time). */
function cacheFile(): string {
  const { size, mtimeMs } = statSync(join(CLI, 'analyze.bundle.cjs'));
  return join(CLI, `analyze.bundle.${size}-${Math.round(mtimeMs)}.cache`);
}

beforeAll(async () => {
  await fixturesReady();
});

describe('analyze from its bundle', () => {
  it('is built with dist/, and gives the events and exit status the modules give', async () => {
    expect(readdirSync(CLI)).toContain('analyze.bundle.cjs');
    for (const name of ['black.ts', 'captions-stop.ts', 'clean.ts']) {
      const args = ['analyze', '--expect', 'audio,video,captions', fixturePath(name)];
      const [modules, bundled] = await Promise.all([
        runCli(args, { STREAMQC_ANALYZE_BUNDLE: '0' }),
        runCli(args, { STREAMQC_ANALYZE_BUNDLE: '1' }),
      ]);
      expect(bundled.code, bundled.stderr).toBe(modules.code);
      expect(bundled.stdout, name).toBe(modules.stdout);
    }
    const usage = await runCli(['analyze', '--no-such-option']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/no-such-option/);
  }, 120_000);

  it('keeps the compiled code after a full run, and refuses and replaces a damaged cache', async () => {
    const run = () => runCli(['analyze', fixturePath('black.ts')]);
    const first = await run();
    expect(first.code).toBe(0);
    const cache = cacheFile();
    expect(existsSync(cache)).toBe(true);
    writeFileSync(cache, Buffer.alloc(4096, 0x5a));
    const damaged = await run();
    expect(damaged.code, damaged.stderr).toBe(0);
    expect(damaged.stdout).toBe(first.stdout);
    // V8 refused it (a damaged cache is never run), and the run wrote its own in its place.
    expect(readFileSync(cache).equals(Buffer.alloc(4096, 0x5a))).toBe(false);
  }, 120_000);
});
