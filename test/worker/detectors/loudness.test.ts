/**
 * Our BS.1770 short-term loudness against FFmpeg's own ebur128 filter on the same decoded audio:
 * the two implementations must agree within 0.3 LU.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { resolveThresholds } from '../../../shared/thresholds.js';
import { LoudnessDetector } from '../../../worker/detectors/LoudnessDetector.js';

function ffmpegShortTerm(source: string, rate: number): number {
  const { stderr } = spawnSync(
    'ffmpeg',
    [
      '-hide_banner',
      '-nostats',
      '-f',
      'lavfi',
      '-i',
      source,
      '-af',
      `aresample=${rate},ebur128`,
      '-f',
      'null',
      '-',
    ],
    { encoding: 'utf8' },
  );
  const lines = stderr.split('\n').filter((l) => / S:\s*-?[\d.]+/.test(l));
  return Number(/ S:\s*(-?[\d.]+)/.exec(lines.at(-1)!)![1]);
}

function ourShortTerm(source: string, rate: number, channels: number): number {
  const pcm = execFileSync(
    'ffmpeg',
    ['-v', 'error', '-f', 'lavfi', '-i', source, '-ar', String(rate), '-f', 'f32le', '-'],
    {
      maxBuffer: 1 << 28,
    },
  );
  const samples = new Float32Array(pcm.buffer, pcm.byteOffset, pcm.length / 4);
  const detector = new LoudnessDetector({
    thresholds: resolveThresholds(),
    emit: () => {},
    live: false,
    expect: { audio: true, video: false },
  });
  detector.onAudio({ t: 0, wallMs: 0, sampleRate: rate, channels, samples });
  return detector.shortTermLufs!;
}

describe('short-term loudness (ITU-R BS.1770)', () => {
  const cases = [
    {
      name: 'stereo pink noise at 48 kHz',
      source: 'anoisesrc=c=pink:a=0.1:d=5:r=48000,aformat=channel_layouts=stereo',
      rate: 48000,
      channels: 2,
    },
    {
      name: 'a 1 kHz stereo tone at 44.1 kHz',
      source: "aevalsrc='0.3*sin(2*PI*1000*t)|0.3*sin(2*PI*1000*t)':s=44100:d=5",
      rate: 44100,
      channels: 2,
    },
    {
      name: 'a 100 Hz mono tone (K-weighting high-pass)',
      source: "aevalsrc='0.5*sin(2*PI*100*t)':s=48000:d=5",
      rate: 48000,
      channels: 1,
    },
  ];
  for (const c of cases) {
    it(`agrees with FFmpeg's ebur128 on ${c.name}`, () => {
      const theirs = ffmpegShortTerm(c.source, c.rate);
      const ours = ourShortTerm(c.source, c.rate, c.channels);

      expect(Math.abs(ours - theirs), `ours ${ours.toFixed(2)} vs ebur128 ${theirs}`).toBeLessThanOrEqual(
        0.3,
      );
    });
  }
});
