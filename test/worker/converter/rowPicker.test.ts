/**
 * The analysis filter chain keeps the middle row of every ROW_STEP-row run (times the horizontal
 * scale), exactly: checked on real pictures whose every row carries its own number. The chain is
 * the same at every width, and each picture says the scale it was made at.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analysisScale, ffmpegArgs, ROW_STEP } from '../../../worker/converter/ffmpegArgs.js';
import { parseStderrLine } from '../../../worker/converter/stderrLines.js';
import { makeClip } from '../../helpers/clips.js';

/** The -vf chain the converter gives ffmpeg for a video of this width (showinfo dropped): the same for every width. */
function analysisChain(width: number, height: number): string {
  const args = ffmpegArgs('in.nut', {
    kind: 'file',
    tracks: {
      video: { codec: 'rawvideo', width, height, frameRate: 25 },
      audio: null,
      duration: 1,
      startTime: 0,
      formatName: 'nut',
    },
    realtime: false,
  });
  const chain = args[args.indexOf('-vf') + 1];
  return chain.replace(/,showinfo[^,]*$/, '');
}

describe('the rows handed to the detectors', () => {
  for (const [width, height] of [
    [1280, 720],
    [1920, 1080],
    [720, 576],
    [1440, 1080],
    [2560, 1440],
    [3840, 2160],
  ]) {
    it(`${width}×${height}: row k is source row step·k + step/2, every scale-th column`, () => {
      const scale = analysisScale(width);
      const step = scale * ROW_STEP;
      // Each source row's luma is its own row number (mod 220, kept inside the legal range), lossless.
      const out = execFileSync(
        'ffmpeg',
        [
          '-v',
          'error',
          '-f',
          'lavfi',
          '-i',
          `color=c=black:s=${width}x${height}:r=25:d=0.04,format=yuv420p,geq=lum='16+mod(Y\\,220)':cb=128:cr=128`,
          '-vf',
          analysisChain(width, height),
          '-frames:v',
          '1',
          '-f',
          'rawvideo',
          '-',
        ],
        { maxBuffer: 64 << 20 },
      );
      const outWidth = width / scale;
      const rows = Math.floor(height / step);
      expect(out.length).toBe(outWidth * rows);
      for (let k = 0; k < rows; k++) {
        const expected = 16 + ((k * step + step / 2) % 220);
        expect(out[k * outWidth + 3], `row ${k}`).toBe(expected);
      }
    });
  }
});

describe('the scale each picture was made at', () => {
  it('travels with the picture (its sample aspect ratio), across a change of width mid-stream', () => {
    // 720p then 1080p in one transport stream (an ABR switch), whatever the source's own SAR.
    const dir = mkdtempSync(join(tmpdir(), 'streamqc-switch-'));
    const part = (size: string, name: string) => {
      const path = join(dir, name);
      makeClip(path, 0.4, ',setsar=16/11', { audio: false, size });
      return readFileSync(path);
    };
    const both = join(dir, 'switch.ts');
    writeFileSync(both, Buffer.concat([part('1280x720', 'a.ts'), part('1920x1080', 'b.ts')]));
    const log = spawnSync('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'level+info',
      '-i',
      both,
      '-vf',
      `${analysisChain(1280, 720)},showinfo=checksum=0`,
      '-f',
      'null',
      '-',
    ]).stderr.toString();
    const pictures = log
      .split('\n')
      .map(parseStderrLine)
      .filter((line) => line.kind === 'video')
      .map((v) => `${v.width}x${v.height}@${v.scale}`);
    expect(new Set(pictures)).toEqual(new Set(['1280x90@1', '960x67@2']));
    expect(pictures.at(0)).toBe('1280x90@1');
    expect(pictures.at(-1)).toBe('960x67@2');
  });
});
