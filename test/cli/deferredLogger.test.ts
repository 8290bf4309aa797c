/** The analyze command's logger: pino's lines when it writes, pino not even loaded when it does not. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../shared/projectRoot.js';

const PROJECT_ROOT = projectRoot();

/** Runs `body` in a fresh Node (the sources through tsx) with a deferred logger named `log`. */
function inChild(body: string, level = 'warn') {
  const module = join(PROJECT_ROOT, 'cli', 'deferredLogger.ts');
  const script = [
    `const { createDeferredLogger } = await import(${JSON.stringify(module)});`,
    `const { createRequire } = await import('node:module');`,
    `const pinoLoaded = () => Object.keys(createRequire(import.meta.url).cache).some((p) => p.includes('/node_modules/pino/'));`,
    `const log = createDeferredLogger('streamqc-analyze').child({ streamId: 'clip.ts' });`,
    body,
  ].join('\n');
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, STREAMQC_LOG_LEVEL: level },
    encoding: 'utf8',
  });
  return { stdout: run.stdout, lines: run.stderr.split('\n').filter((l) => l.startsWith('{')) };
}

describe('the deferred logger of streamqc analyze', () => {
  it('does not load pino while every line is below its level', () => {
    const run = inChild(`log.info({ frames: 3 }, 'converter ended'); console.log(pinoLoaded());`);

    expect(run.stdout.trim()).toBe('false');
    expect(run.lines).toEqual([]);
  });

  it('writes pino JSON with the stream id and masked credentials once a line is at its level', () => {
    const run = inChild(
      `log.warn({ err: 'cannot open rtmp://user:secret@example.com/live' }, 'source cannot be opened'); console.log(pinoLoaded());`,
    );

    expect(run.stdout.trim()).toBe('true');
    expect(run.lines).toHaveLength(1);
    const line = JSON.parse(run.lines[0]);
    expect(line).toMatchObject({
      level: 40,
      name: 'streamqc-analyze',
      streamId: 'clip.ts',
      msg: 'source cannot be opened',
    });
    expect(line.err).toBe('cannot open rtmp://user:***@example.com/live');
  });

  it('writes info lines when the level asks for them (--verbose)', () => {
    const run = inChild(`log.child({ run: 1 }).info('source opened');`, 'info');

    expect(run.lines.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ level: 30, streamId: 'clip.ts', run: 1, msg: 'source opened' }),
    ]);
  });
});
