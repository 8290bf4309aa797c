/**
 * `npm run bench`: the per-stream cost of `streamqc analyze` against plain ffmpeg decoding of the
 * same 720p25 H.264/AAC clip (the cost of decoding at all) and against FFmpeg's own detector
 * filters, measured in the same run; then how many real-time streams this machine sustains.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/runCli.js';
import { type Measurement, measure } from './measure.js';

const DIR = join(ROOT, 'test', '.fixtures');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const CLIP_SECONDS = Number(process.env.BENCH_CLIP_SECONDS ?? 60);
const LIVE_SECONDS = 40;

function clip(name: string, seconds: number): string {
  const path = join(DIR, name);
  if (existsSync(path)) return path;
  mkdirSync(DIR, { recursive: true });
  execFileSync('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=s=1280x720:r=25:d=${seconds}`,
    '-f',
    'lavfi',
    '-i',
    `anoisesrc=c=pink:a=0.1:r=48000:d=${seconds}`,
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-b:v',
    '3M',
    '-g',
    '50',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-b:a',
    '128k',
    '-ac',
    '2',
    '-f',
    'mpegts',
    path,
  ]);
  return path;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function repeat(argv: string[]): Promise<{ cpu: number; rss: number; wall: number }> {
  const runs: Measurement[] = [];
  for (let i = 0; i < RUNS; i++) {
    const m = await measure(argv);
    if (m.exitCode !== 0) throw new Error(`${argv.join(' ')} exited ${m.exitCode}`);
    runs.push(m);
  }
  return {
    cpu: median(runs.map((r) => r.cpuSeconds)),
    rss: median(runs.map((r) => r.peakRssMb)),
    wall: median(runs.map((r) => r.wallSeconds)),
  };
}

const streamqc = ['node', join(ROOT, 'bin', 'streamqc.js')];
const main = clip(`bench-720p25-${CLIP_SECONDS}s.ts`, CLIP_SECONDS);
console.log(`# streamqc benchmark — ${new Date().toISOString()}, ${RUNS} runs each, median`);
console.log(`clip: ${CLIP_SECONDS} s 1280x720 25 fps H.264 3 Mb/s + AAC stereo 48 kHz (MPEG-TS)\n`);

const plain = await repeat(['ffmpeg', '-v', 'error', '-i', main, '-f', 'null', '-']);
const ffDetectors = await repeat([
  'ffmpeg',
  '-v',
  'error',
  '-i',
  main,
  '-vf',
  'blackdetect=d=1:pix_th=0.1,freezedetect=d=2',
  '-af',
  'silencedetect=n=-60dB:d=1,ebur128',
  '-f',
  'null',
  '-',
]);
const ours = await repeat([...streamqc, 'analyze', main]);
const oursFull = await repeat([...streamqc, 'analyze', '--decode', 'full', main]);
const startup = await repeat([...streamqc, '--help']);

const row = (name: string, m: { cpu: number; rss: number; wall: number }) =>
  `| ${name} | ${m.cpu.toFixed(2)} | ${(m.cpu / plain.cpu).toFixed(2)}× | ${m.rss.toFixed(0)} | ${(m.rss / plain.rss).toFixed(2)}× | ${m.wall.toFixed(2)} |`;
console.log('| command | CPU s | CPU vs plain decode | peak RSS MB | RSS vs plain | wall s |');
console.log('|---|---|---|---|---|---|');
console.log(row('`ffmpeg -i clip -f null -` (plain decode)', plain));
console.log(row('ffmpeg blackdetect+freezedetect+silencedetect+ebur128', ffDetectors));
console.log(row('`streamqc analyze clip` (all 10 detectors, default `reference` decoding)', ours));
console.log(row('`streamqc analyze --decode full clip` (every picture)', oursFull));
console.log(row('`streamqc --help` (Node start-up alone)', startup));
const steady = (ours.cpu - startup.cpu) / plain.cpu;
console.log(
  `\nanalyze / plain decode, CPU: ${(ours.cpu / plain.cpu).toFixed(2)}× (target ≤ 1.00×); with every picture decoded: ${(oursFull.cpu / plain.cpu).toFixed(2)}×; without the fixed Node start-up (${startup.cpu.toFixed(2)} s, paid once per stream, not per second): ${steady.toFixed(2)}×`,
);
console.log(
  `CPU per media second: plain ${((plain.cpu / CLIP_SECONDS) * 1000).toFixed(0)} ms, analyze ${((ours.cpu / CLIP_SECONDS) * 1000).toFixed(0)} ms`,
);

// Real-time capacity: K concurrent live-paced analyses of a 40 s clip, started 0.5 s apart so
// start-ups do not pile up. Each stream's lag is its own finish time minus the media length; K is
// sustained while the worst of them stays within 1 s of a lone stream's.
const live = clip(`bench-720p25-${LIVE_SECONDS}s.ts`, LIVE_SECONDS);
console.log(
  `\n| concurrent real-time 720p25 streams | worst finish − media length, s | peak RSS MB | RSS per stream MB | CPU per stream, % of a core |`,
);
console.log('|---|---|---|---|---|');
let sustained = 0;
let baseline: number | null = null;
for (const k of [1, 4, 6, 8, 10, 12, 16]) {
  const runs = await Promise.all(
    Array.from({ length: k }, async (_, i) => {
      await new Promise((r) => setTimeout(r, i * 500));
      return measure([...streamqc, 'analyze', '--realtime', live]);
    }),
  );
  const lag = Math.max(...runs.map((r) => r.wallSeconds)) - LIVE_SECONDS;
  const rss = runs.reduce((a, r) => a + r.peakRssMb, 0);
  const cpu = runs.reduce((a, r) => a + r.cpuSeconds, 0) / k / LIVE_SECONDS;
  console.log(
    `| ${k} | ${lag.toFixed(2)} | ${rss.toFixed(0)} | ${(rss / k).toFixed(0)} | ${(cpu * 100).toFixed(1)} |`,
  );
  baseline ??= lag;
  if (lag - baseline > 1.0) break;
  sustained = k;
}
console.log(
  `\nsustained without growing lag on this ${execFileSync('nproc').toString().trim()}-core machine: ${sustained} streams`,
);
