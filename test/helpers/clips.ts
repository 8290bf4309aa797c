/** Small live-source clips for system tests: a 320x180 test card (and a tone), encoded fast. */
import { execFileSync } from 'node:child_process';

const TONE = 'aevalsrc=0.075*sin(2*PI*440*t)|0.075*sin(2*PI*440*t):c=stereo:s=48000';

/**
 * Encodes `seconds` of moving test card as H.264 (one key frame a second) in MPEG-TS.
 * @param videoFilter appended to the picture source, e.g. `,drawbox=…:enable='between(t,3,6)'`
 */
export function makeClip(
  path: string,
  seconds: number,
  videoFilter = '',
  options: { audio?: boolean } = {},
): void {
  const audio = options.audio ?? true;
  execFileSync('ffmpeg', [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=s=320x180:r=25:d=${seconds}${videoFilter}`,
    ...(audio ? ['-f', 'lavfi', '-i', TONE, '-c:a', 'aac', '-b:a', '64k'] : []),
    '-t',
    String(seconds),
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-g',
    '25',
    '-f',
    'mpegts',
    path,
  ]);
}
