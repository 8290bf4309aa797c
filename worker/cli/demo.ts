/**
 * `streamqc demo`: makes a 30 s clip with one of each common defect (ffmpeg lavfi, nothing
 * downloaded) and analyses it, so a newcomer sees what the monitor reports in under a minute.
 */
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { analyzeCommand } from './analyze.js';

const run = promisify(execFile);

/** The defects the demo clip carries, in media seconds. */
export const DEMO_DEFECTS = [
  'video.black 4–6 s',
  'video.freeze 9–13 s',
  'audio.silence 16–18 s',
  'audio.clipping 21–23 s',
];

/** Builds the demo clip (H.264/AAC in MPEG-TS) and returns its path. */
export async function makeDemoClip(dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const out = join(dir, 'demo.ts');
  const tone = '0.075*sin(2*PI*440*t)';
  const audio = `if(between(t,16,18),0,if(between(t,21,23),max(-1,min(1,3*sin(2*PI*440*t))),${tone}))`;
  await run('ffmpeg', [
    '-hide_banner',
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    "testsrc2=s=640x360:r=25:d=30,drawbox=c=black:t=fill:enable='between(t,4,6)',split[a][b];[a][b]freezeframes=first=225:last=325:replace=225",
    '-f',
    'lavfi',
    '-i',
    `aevalsrc='${audio}|${audio}':c=stereo:s=48000:d=30`,
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-f',
    'mpegts',
    out,
  ]);
  return out;
}

export async function demoCommand(argv: string[]): Promise<number> {
  const dir = join(process.cwd(), '.streamqc', 'demo');
  process.stderr.write(`streamqc demo: encoding a 30 s clip with ${DEMO_DEFECTS.join(', ')}…\n`);
  const clip = await makeDemoClip(dir);
  process.stderr.write(`streamqc demo: analysing ${clip}\n`);
  return analyzeCommand([...argv, '--format', 'text', clip]);
}
