/**
 * `streamqc analyze --loudness`: the programme's integrated loudness, loudness range and true peak
 * after the events, with a compliance verdict against EBU R128 or ATSC A/85 — the same figures as
 * FFmpeg's own ebur128 meter on programme audio, and the verdict each standard gives.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixturePath, fixturesReady } from '../fixtures/generate.js';
import { runCli } from '../helpers/runCli.js';

const dir = mkdtempSync(join(tmpdir(), 'streamqc-loudness-'));

/** The last stdout line of `analyze --loudness STD`, parsed. */
async function summary(path: string, standard: string, extra: string[] = []) {
  const r = await runCli(['analyze', '--loudness', standard, ...extra, path]);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}').loudness;
}

describe('analyze --loudness', () => {
  it('measures programme audio as FFmpeg’s ebur128 does, and judges its true peak over R128’s −1 dBTP', async () => {
    await fixturesReady();
    const clip = fixturePath('prog-cuts.ts');
    const ours = await summary(clip, 'r128');
    const report =
      spawnSync(
        'ffmpeg',
        ['-hide_banner', '-nostats', '-i', clip, '-vn', '-af', 'ebur128=peak=true', '-f', 'null', '-'],
        {
          encoding: 'utf8',
        },
      )
        .stderr.split('Summary:')
        .pop() ?? '';
    const value = (label: RegExp) => Number(label.exec(report)?.[1]);
    // FFmpeg prints to 0.1.
    expect(Math.abs(ours.integratedLufs - value(/I:\s+(-?[\d.]+) LUFS/))).toBeLessThanOrEqual(0.15);
    expect(Math.abs(ours.rangeLu - value(/LRA:\s+(-?[\d.]+) LU/))).toBeLessThanOrEqual(0.5);
    expect(Math.abs(ours.truePeakDbtp - value(/Peak:\s+(-?[\d.]+) dBFS/))).toBeLessThanOrEqual(0.2);
    expect(ours.truePeakDbtp).toBeGreaterThan(-1);
    expect(ours).toMatchObject({ standard: 'EBU R128', compliant: false });
    expect(ours.reasons.join()).toContain('true peak');
  });

  it('finds a −23 LUFS programme compliant with both, and one at −19 LUFS compliant with neither', async () => {
    // A 1 kHz stereo sine at X dBFS reads X LUFS (EBU Tech 3341 case 1); lossless, 20 s.
    const tone = (db: number) => {
      const wav = join(dir, `tone${db}.wav`);
      const v = `pow(10\\,${db}/20)*sin(2*PI*1000*t)`;
      execFileSync('ffmpeg', [
        ...['-v', 'error', '-y', '-f', 'lavfi', '-i', `aevalsrc=${v}|${v}:s=48000:d=20`],
        ...['-c:a', 'pcm_f32le', wav],
      ]);
      return wav;
    };
    const quiet = tone(-23);
    const r128 = await summary(quiet, 'r128', ['--expect', 'audio']);
    expect(r128.integratedLufs).toBeCloseTo(-23, 1);
    expect(r128.truePeakDbtp).toBeCloseTo(-23, 0);
    expect(r128).toMatchObject({ compliant: true, reasons: [] });
    expect(await summary(quiet, 'a85', ['--expect', 'audio'])).toMatchObject({
      standard: 'ATSC A/85',
      compliant: true,
    });
    const text = await runCli([
      'analyze',
      '--loudness',
      'r128',
      '--format',
      'text',
      '--expect',
      'audio',
      quiet,
    ]);
    expect(text.stdout).toMatch(/loudness \(EBU R128, 20 s\): I -23\.0 LUFS, LRA 0\.0 LU, .*: compliant/);

    const loud = tone(-19);
    for (const standard of ['r128', 'a85']) {
      const verdict = await summary(loud, standard, ['--expect', 'audio']);
      expect(verdict.compliant).toBe(false);
      expect(verdict.reasons.join()).toContain('integrated -19.0 LUFS');
    }
  });

  it('refuses an unknown standard as a usage error', async () => {
    const r = await runCli(['analyze', '--loudness', 'loud', fixturePath('prog-cuts.ts')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('expected r128 or a85');
  });
});
