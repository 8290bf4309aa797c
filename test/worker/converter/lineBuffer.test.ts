/**
 * The converter's ffmpeg with worker/ffmpeg/linebuffer.c preloaded: its log a whole line per
 * write, and nothing else changed — the same pictures, sound and decode errors at the same times.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Converter, converterArgs } from '../../../worker/converter/Converter.js';
import { converterEnv, lineBufferLibrary } from '../../../worker/converter/lineBuffer.js';
import { MediaClock } from '../../../worker/converter/MediaClock.js';
import { probeInput } from '../../../worker/converter/probe.js';
import { fixturePath, fixturesReady } from '../../fixtures/generate.js';

beforeAll(() => fixturesReady(['clean.ts', 'corruption.ts']));

const logger = pino({ level: 'silent' });
const built = lineBufferLibrary() !== null;
const saved = process.env.STREAMQC_FFMPEG_LINEBUFFER;
afterEach(() => {
  if (saved === undefined) delete process.env.STREAMQC_FFMPEG_LINEBUFFER;
  else process.env.STREAMQC_FFMPEG_LINEBUFFER = saved;
});

/** What a converter hands on for a file: every picture's and chunk's time, every decode error's. */
async function handed(source: string, lineBuffered: boolean) {
  process.env.STREAMQC_FFMPEG_LINEBUFFER = lineBuffered ? '1' : '0';
  const tracks = await probeInput(source, { kind: 'file' });
  const clock = new MediaClock({ live: false, segmented: false, outageSeconds: 3 });
  if (tracks.startTime !== null) clock.setOrigin(tracks.startTime);
  const seen: string[] = [];
  const exit = await new Converter(
    source,
    { kind: 'file', tracks, realtime: false, logger, clock },
    {
      onVideo: (f) => seen.push(`v ${f.t.toFixed(4)} ${f.width}x${f.height} ${f.luma[f.luma.length >> 1]}`),
      onAudio: (c) => seen.push(`a ${c.t.toFixed(4)} ${c.samples.length}`),
      onDecodeError: (t, message) => seen.push(`e ${t.toFixed(4)} ${message}`),
    },
  ).run();
  return { seen, code: exit.code };
}

describe('ffmpeg log a line per write', () => {
  it.skipIf(!built)('hands on the same media and errors with the library as without', async () => {
    for (const clip of ['clean.ts', 'corruption.ts']) {
      const plain = await handed(fixturePath(clip), false);
      const buffered = await handed(fixturePath(clip), true);
      expect(plain.seen.length).toBeGreaterThan(100);
      expect(buffered.code).toBe(plain.code);
      // Each kind in its own order: when a decoder error is handed on among the pictures depends
      // on how the pipes' reads and the log's lines happened to interleave, with or without.
      for (const kind of ['v', 'a', 'e'])
        expect(buffered.seen.filter((x) => x[0] === kind)).toEqual(plain.seen.filter((x) => x[0] === kind));
    }
  });

  const strace = spawnSync('strace', ['-V'], { stdio: 'ignore' }).status === 0;
  it.skipIf(!built || !strace)('writes each log line whole: a fifth of the writes', async () => {
    const source = fixturePath('clean.ts');
    const tracks = await probeInput(source, { kind: 'file' });
    const args = converterArgs(source, {
      kind: 'file',
      tracks,
      realtime: false,
      logger,
      clock: new MediaClock({ live: false, segmented: false, outageSeconds: 3 }),
    });
    const dir = mkdtempSync(join(tmpdir(), 'streamqc-linebuffer-'));
    const writes = (env: NodeJS.ProcessEnv | undefined) => {
      // Pictures and sound to /dev/null; ffmpeg's log (fd 2) writes counted in strace's record.
      const trace = join(dir, 'trace');
      const devNull = openSync('/dev/null', 'w');
      try {
        spawnSync('strace', ['-f', '-qq', '-e', 'trace=write', '-o', trace, 'ffmpeg', ...args], {
          env,
          stdio: ['ignore', 'ignore', 'ignore', devNull, devNull],
        });
      } finally {
        closeSync(devNull);
      }
      return readFileSync(trace, 'utf8')
        .split('\n')
        .filter((l) => /^(\d+ +)?write\(2,/.test(l)).length;
    };
    process.env.STREAMQC_FFMPEG_LINEBUFFER = '1';
    const buffered = writes(converterEnv());
    const plain = writes(undefined);
    expect(plain).toBeGreaterThan(200);
    expect(buffered).toBeLessThan(plain / 3);
  });
});
