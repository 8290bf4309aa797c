/** Small live-source clips for system tests: a 320x180 test card (and a tone), encoded fast. */
import { execFileSync } from 'node:child_process';

const TONE = 'aevalsrc=0.075*sin(2*PI*440*t)|0.075*sin(2*PI*440*t):c=stereo:s=48000';

/**
 * Encodes `seconds` of moving test card as H.264 (one key frame a second) in MPEG-TS.
 * @param videoFilter appended to the picture source, e.g. `,drawbox=…:enable='between(t,3,6)'`
 * @param options.size the picture's size (320x180)
 */
export function makeClip(
  path: string,
  seconds: number,
  videoFilter = '',
  options: { audio?: boolean; muxrate?: number; gop?: number; size?: string } = {},
): void {
  const audio = options.audio ?? true;
  execFileSync('ffmpeg', [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=s=${options.size ?? '320x180'}:r=25:d=${seconds}${videoFilter}`,
    ...(audio ? ['-f', 'lavfi', '-i', TONE, '-c:a', 'aac', '-b:a', '64k'] : []),
    '-t',
    String(seconds),
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-g',
    String(options.gop ?? 25),
    ...(options.gop ? ['-keyint_min', String(options.gop), '-sc_threshold', '0'] : []),
    ...(options.muxrate ? ['-muxrate', String(options.muxrate)] : []),
    '-f',
    'mpegts',
    path,
  ]);
}

/**
 * FFmpeg input arguments of a test card and a 1 kHz tone, both black and silent from `from` to
 * `to` seconds: a programme going dark (an ad break, a failed playout).
 */
export function darkProgrammeInputs(seconds: number, from: number, to: number): string[] {
  const dark = `between(t,${from},${to})`;
  return [
    '-f',
    'lavfi',
    '-i',
    `testsrc2=s=320x180:r=25:d=${seconds},drawbox=c=black:t=fill:enable='${dark}'`,
    '-f',
    'lavfi',
    '-i',
    `sine=f=1000:sample_rate=48000:d=${seconds},volume=enable='${dark}':volume=0`,
  ];
}
