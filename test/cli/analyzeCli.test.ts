/** The analyze command's contract beyond detection: errors, flags and output formats. */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixturePath, fixturesReady } from '../fixtures/generate.js';
import { events, runCli } from '../helpers/runCli.js';

// The fixture clips are made in the background (test/fixtures/globalSetup.ts).
beforeAll(() => fixturesReady(['clean.ts', 'audio-only.m4a', 'black.ts', 'silence.ts']));

describe('streamqc analyze input errors', () => {
  it('exits 1 with a clear message for a file that does not exist', async () => {
    const result = await runCli(['analyze', '/nonexistent/clip.ts']);

    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/cannot open \/nonexistent\/clip\.ts: .*No such file/);
  });

  it('exits 1 for garbage bytes that are not media', async () => {
    const garbage = join(tmpdir(), `streamqc-garbage-${process.pid}.ts`);
    writeFileSync(garbage, Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 251)));

    const result = await runCli(['analyze', garbage]);

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot open|could not decode/);
  });

  it('exits 1 for an unsupported protocol', async () => {
    const result = await runCli(['analyze', 'gopher://example.com/clip']);

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/unsupported protocol/);
  });

  it('exits 2 and names the flag for an unknown detector or a bad threshold', async () => {
    const unknown = await runCli(['analyze', '--detectors', 'video.purple', fixturePath('clean.ts')]);
    const bad = await runCli(['analyze', '--threshold', 'black.minDuration=-1', fixturePath('clean.ts')]);

    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown defect type video\.purple/);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--threshold black\.minDuration/);
  });

  it('prints its usage with --help', async () => {
    const result = await runCli(['analyze', '--help']);

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Usage: streamqc analyze/);
  });
});

describe('streamqc analyze options', () => {
  it('runs only the chosen detectors', async () => {
    const result = await runCli(['analyze', '--detectors', 'audio.silence', fixturePath('audio-only.m4a')]);

    expect(events(result.stdout).map((e) => e.type)).toEqual(['audio.silence']);
  });

  it('applies a threshold override: a 3 s black interval is no defect under a 4 s rule', async () => {
    const result = await runCli(['analyze', '--threshold', 'black.minDuration=4', fixturePath('black.ts')]);

    expect(result.code).toBe(0);
    expect(events(result.stdout)).toEqual([]);
  });

  it('does not report a missing track the user did not expect', async () => {
    const result = await runCli(['analyze', '--expect', 'audio', fixturePath('audio-only.m4a')]);

    expect(events(result.stdout).map((e) => e.type)).toEqual(['audio.silence']);
  });

  it('prints a human-readable line per incident with --format text', async () => {
    const result = await runCli(['analyze', '--format', 'text', fixturePath('black.ts')]);

    expect(result.stdout.trim()).toMatch(/^0:00:05\.\d{3} – 0:00:0[78]\.\d{3}\s+video\.black\s+critical/);
  });

  it('keeps logs off stdout: stdout is NDJSON only, logs are JSON on stderr', async () => {
    const result = await runCli(['analyze', '--verbose', fixturePath('silence.ts')]);

    for (const line of result.stdout.split('\n').filter(Boolean))
      expect(() => JSON.parse(line)).not.toThrow();
    const logLines = result.stderr.split('\n').filter(Boolean);
    expect(logLines.length).toBeGreaterThan(0);
    for (const line of logLines) expect(JSON.parse(line).streamId).toBe('silence.ts');
  });
});
