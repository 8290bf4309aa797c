/**
 * `npm run bench`: the per-stream cost of `streamqc analyze` against plain ffmpeg decoding of the
 * same 720p25 H.264/AAC clip (the cost of decoding at all) and against FFmpeg's own detector
 * filters, measured in the same run; the cost against the decode floor of the same profile (one
 * thread, reference pictures only: the decoding analyze itself does) with a breakdown per stage,
 * on that clip, on a 1080p HEVC clip and on a 1080i MPEG-2 clip (both with B-frames), and per
 * further minute of media once running; then how many real-time streams this machine sustains.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ffmpegArgs } from '../../worker/converter/ffmpegArgs.js';
import { lineBufferLibrary } from '../../worker/converter/lineBuffer.js';
import { probeInput } from '../../worker/converter/probe.js';
import { ROOT } from '../helpers/runCli.js';
import { type Measurement, measure } from './measure.js';

const DIR = join(ROOT, 'test', '.fixtures');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
/**
 * Rounds of the floor-and-analyze pairs a ratio is the median of: this machine's speed moves
 * within a run's few seconds, and three pairs put single rounds of 1.06× and 1.72× side by side.
 */
const PAIRS = Number(process.env.BENCH_PAIRS ?? 7);
const CLIP_SECONDS = Number(process.env.BENCH_CLIP_SECONDS ?? 60);
const LIVE_SECONDS = 40;

/** A bench clip in test/.fixtures/ (encoded once): lavfi video and sound, then `codec`, as MPEG-TS. */
function benchClip(name: string, video: string, sound: string, codec: string[]): string {
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
    video,
    '-f',
    'lavfi',
    '-i',
    sound,
    ...codec,
    '-f',
    'mpegts',
    path,
  ]);
  return path;
}

/** A 1080i25 MPEG-2 clip with B-frames (interlaced, top field first) and MP2 sound. */
function interlacedClip(seconds: number): string {
  return benchClip(
    `bench-1080i25-mpeg2-${seconds}s.ts`,
    `testsrc2=s=1920x1080:r=25:d=${seconds}`,
    `sine=f=1000:r=48000:d=${seconds}`,
    [
      ...['-c:v', 'mpeg2video', '-b:v', '15M', '-bf', '2', '-g', '12', '-flags', '+ilme+ildct', '-top', '1'],
      ...['-pix_fmt', 'yuv420p', '-c:a', 'mp2', '-b:a', '192k'],
    ],
  );
}

/** A 1080p25 HEVC clip with B-frames (x265, 6 Mb/s) and AAC sound: the decode-heavy case. */
function hevcClip(seconds: number): string {
  return benchClip(
    `bench-1080p25-hevc-${seconds}s.ts`,
    `testsrc2=s=1920x1080:r=25:d=${seconds}`,
    `anoisesrc=c=pink:a=0.1:r=48000:d=${seconds}`,
    [
      ...['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error:bframes=3'],
      ...['-b:v', '6M', '-g', '50', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '128k', '-ac', '2'],
    ],
  );
}

/** 1280x720 25 fps H.264 3 Mb/s (B-frames) + AAC stereo 48 kHz. */
function clip(name: string, seconds: number): string {
  return benchClip(
    name,
    `testsrc2=s=1280x720:r=25:d=${seconds}`,
    `anoisesrc=c=pink:a=0.1:r=48000:d=${seconds}`,
    [
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
    ],
  );
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

interface Summary {
  cpu: number;
  rss: number;
  wall: number;
  /** CPU s of each round, in order: pairs with the other commands' rounds. */
  cpus: number[];
}

/** The median of the rounds' ratios a[i] / b[i]: each pair ran back to back, in the same minute. */
function pairedRatio(a: Summary, b: Summary): number {
  return median(a.cpus.map((cpu, i) => cpu / b.cpus[i]));
}

/**
 * Runs the commands in turn, RUNS rounds (a, b, c, a, b, c, …), and gives each one's medians: a
 * slow minute of this shared machine then weighs on every command compared, not on one of them.
 */
async function interleaved(commands: string[][], rounds = RUNS): Promise<Summary[]> {
  const runs: Measurement[][] = commands.map(() => []);
  for (let i = 0; i < rounds; i++)
    for (const [k, argv] of commands.entries()) {
      const m = await measure(argv);
      if (m.exitCode !== 0) throw new Error(`${argv.join(' ')} exited ${m.exitCode}`);
      runs[k].push(m);
    }
  return runs.map((r) => ({
    cpu: median(r.map((m) => m.cpuSeconds)),
    rss: median(r.map((m) => m.peakRssMb)),
    wall: median(r.map((m) => m.wallSeconds)),
    cpus: r.map((m) => m.cpuSeconds),
  }));
}

async function repeat(argv: string[]): Promise<Summary> {
  return (await interleaved([argv]))[0];
}

/** The decode floor of the reference profile: one thread, reference pictures, both tracks. */
function floorCommand(path: string, tracks: { video: unknown; audio: unknown }): string[] {
  return [
    ...['ffmpeg', '-v', 'error', '-threads', '1', '-skip_loop_filter', 'noref', '-skip_frame', 'noref'],
    ...['-i', path],
    ...(tracks.video ? ['-map', '0:v:0'] : []),
    ...(tracks.audio ? ['-map', '0:a:0'] : []),
    ...['-f', 'null', '-'],
  ];
}

const streamqc = ['node', join(ROOT, 'bin', 'streamqc.js')];
const main = clip(`bench-720p25-${CLIP_SECONDS}s.ts`, CLIP_SECONDS);
console.log(
  `# streamqc benchmark — ${new Date().toISOString()}, ${RUNS} runs each, median (the floor ratios: ${PAIRS} pairs)`,
);
console.log(`clip: ${CLIP_SECONDS} s 1280x720 25 fps H.264 3 Mb/s + AAC stereo 48 kHz (MPEG-TS)`);
// The converter's ffmpeg writes its log a line per write when the library is built (lineBuffer.ts).
const lineBuffer = lineBufferLibrary();
console.log(
  `the converter's ffmpeg log: ${lineBuffer ? 'a line per write (dist/native/linebuffer.so)' : 'unbuffered (no dist/native/linebuffer.so: no C compiler at build)'}\n`,
);

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
// This machine sets NODE_EXTRA_CA_CERTS (for its package registry's TLS): Node then reads the
// whole CA bundle at every start, before any of streamqc's code. Measured, so it is not guessed.
let extraCaCerts: number | null = null;
if (process.env.NODE_EXTRA_CA_CERTS) {
  const [withCerts, without] = await interleaved([
    ['node', '-e', '0'],
    ['env', '-u', 'NODE_EXTRA_CA_CERTS', 'node', '-e', '0'],
  ]);
  extraCaCerts = Math.max(0, withCerts.cpu - without.cpu);
}

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

interface StageReport {
  childrenCpuSeconds: number;
  nodeCpuSeconds: number;
  detectorSeconds: Record<string, number>;
}

/** One `analyze` run's own report of where its CPU went (cli/analyze.ts, STREAMQC_STAGE_REPORT). */
function stageReport(path: string): StageReport {
  const run = spawnSync(streamqc[0], [...streamqc.slice(1), 'analyze', path], {
    env: { ...process.env, STREAMQC_STAGE_REPORT: '1' },
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const line = run.stderr
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{"stageReport"'));
  if (!line) throw new Error(`no stage report from analyze: ${run.stderr.slice(-500)}`);
  return JSON.parse(line) as StageReport;
}

/**
 * analyze against the decode floor of its own profile, and where the rest goes, each stage
 * measured by running it alone: the floor (one thread, reference pictures, both tracks, null
 * output); ffmpeg exactly as the converter runs it, its pipes drained to /dev/null (the floor +
 * filters, scaling, showinfo lines and pipe writes); analyze with only the loss rule (+ Node
 * start-up, reading the pipes, stderr parsing, the media clock); all detectors. Then, inside one
 * analyze run, its own report: the children's CPU, Node's, and each detector's handlers (timing
 * separate runs per detector drowns in this machine's ±10 % noise). Medians of RUNS runs; the
 * ratio itself is the median of PAIRS rounds of the floor and analyze back to back.
 */
async function breakdown(
  path: string,
  label: string,
): Promise<{ ratio: number; floor: number; all: number }> {
  const tracks = await probeInput(path, { kind: 'file' });
  // The floor and analyze back to back in each round: the pair the ratio is taken of.
  const [floor, all] = await interleaved([floorCommand(path, tracks), [...streamqc, 'analyze', path]], PAIRS);
  const [converter, lossOnly] = await interleaved([
    [
      ...(lineBuffer ? ['env', `LD_PRELOAD=${lineBuffer}`] : []),
      ...['bash', '-c', 'exec ffmpeg "$@" 3>/dev/null 4>/dev/null', 'converter'],
      ...ffmpegArgs(path, { kind: 'file', tracks, realtime: false, threads: 1, skipNonReference: true }),
    ],
    [...streamqc, 'analyze', '--detectors', 'stream.loss', path],
  ]);
  console.log(`
### ${label}: analyze against the same-profile decode floor
`);
  console.log('| stage (each measured alone) | CPU s | of the floor | this stage adds, CPU s |');
  console.log('|---|---|---|---|');
  const line = (name: string, cpu: number, before: number | null) =>
    console.log(
      `| ${name} | ${cpu.toFixed(2)} | ${(cpu / floor.cpu).toFixed(2)}× | ${before === null ? '—' : (cpu - before).toFixed(2)} |`,
    );
  line('decode floor: `ffmpeg -threads 1 -skip_frame noref … -f null -`', floor.cpu, null);
  line(
    '+ filters, scaling, showinfo, pipe writes (the converter ffmpeg, pipes to /dev/null)',
    converter.cpu,
    floor.cpu,
  );
  line(
    '+ Node: start-up, pipe reading, stderr parsing, clock (`analyze --detectors stream.loss`)',
    lossOnly.cpu,
    converter.cpu,
  );
  line('`streamqc analyze` (every detector)', all.cpu, lossOnly.cpu);
  // Inside one analyze run (STREAMQC_STAGE_REPORT=1): the children's CPU (ffmpeg: a recorded file
  // is not probed by ffprobe, its converter reads the tracks: openRecorded.ts), Node's
  // own, and the time in each detector's handlers; medians of RUNS runs.
  const reports = Array.from({ length: RUNS }, () => stageReport(path));
  const med = (pick: (r: StageReport) => number) => median(reports.map(pick));
  const detectors = Object.keys(reports[0].detectorSeconds).filter((k) => reports[0].detectorSeconds[k] > 0);
  const inDetectors = med((r) => Object.values(r.detectorSeconds).reduce((a, b) => a + b, 0));
  console.log('\n| inside one `analyze` run | CPU s | of the floor |');
  console.log('|---|---|---|');
  const part = (name: string, cpu: number) =>
    console.log(`| ${name} | ${cpu.toFixed(2)} | ${(cpu / floor.cpu).toFixed(2)}× |`);
  part(
    'ffmpeg (children)',
    med((r) => r.childrenCpuSeconds),
  );
  part(
    'Node, all of it',
    med((r) => r.nodeCpuSeconds),
  );
  part('Node start-up (`streamqc --help`)', startup.cpu);
  if (extraCaCerts !== null) part("… of which reading this machine's NODE_EXTRA_CA_CERTS", extraCaCerts);
  part(
    'Node: pipes, stderr parsing, clock, events (the rest)',
    med((r) => r.nodeCpuSeconds) - inDetectors - startup.cpu,
  );
  for (const d of detectors)
    part(
      `detector ${d}`,
      med((r) => r.detectorSeconds[d] ?? 0),
    );
  // The median of the rounds' ratios: this machine's speed moves by 10–30 % from one minute to
  // the next, and a pair run back to back shares its minute (the medians above may not).
  const ratio = pairedRatio(all, floor);
  const rounds = all.cpus.map((cpu, i) => `${(cpu / floor.cpus[i]).toFixed(2)}×`).join(', ');
  console.log(`
${label}: analyze / same-profile decode floor, CPU: ${ratio.toFixed(2)}× (target ≤ 1.25×; median of the rounds' pairs: ${rounds})`);
  return { ratio, floor: floor.cpu, all: all.cpu };
}

/**
 * Per further minute of media: the floor and analyze on a clip and on one twice as long, all four
 * interleaved; (analyze long − analyze short) / (floor long − floor short).
 */
async function perFurtherMinute(
  short: string,
  long: string,
): Promise<{ analyze: number; floor: number; ratio: number }> {
  const tracks = await probeInput(short, { kind: 'file' });
  const [floorShort, allShort, floorLong, allLong] = await interleaved([
    floorCommand(short, tracks),
    [...streamqc, 'analyze', short],
    floorCommand(long, tracks),
    [...streamqc, 'analyze', long],
  ]);
  const ratios = allLong.cpus.map(
    (cpu, i) => (cpu - allShort.cpus[i]) / (floorLong.cpus[i] - floorShort.cpus[i]),
  );
  return {
    analyze: allLong.cpu - allShort.cpu,
    floor: floorLong.cpu - floorShort.cpu,
    ratio: median(ratios),
  };
}

const at720 = await breakdown(main, `${CLIP_SECONDS} s 720p25 H.264 (B-frames) + AAC`);
// Per media minute once running: a clip twice as long, less this one. What a stream costs in a
// worker that runs for hours, where Node's start-up, its compiler's warm-up and the probe are
// paid once (per worker, or per stream start) and not per minute.
const further = await perFurtherMinute(main, clip(`bench-720p25-${CLIP_SECONDS * 2}s.ts`, CLIP_SECONDS * 2));
const steady720 = further.ratio;
console.log(
  `\n720p, per further ${CLIP_SECONDS} s of media (a ${CLIP_SECONDS * 2} s clip less the ${CLIP_SECONDS} s one, interleaved): analyze ${further.analyze.toFixed(2)} CPU s, floor ${further.floor.toFixed(2)} s (medians); median of the rounds' ratios ${steady720.toFixed(2)}×`,
);
const at1080p = await breakdown(hevcClip(CLIP_SECONDS), `${CLIP_SECONDS} s 1080p25 HEVC (B-frames) + AAC`);
const at1080i = await breakdown(interlacedClip(20), '20 s 1080i25 MPEG-2 (B-frames) + MP2');

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
console.log(
  JSON.stringify({
    bench: 'analyze',
    cpuVsPlainDecode: Number((ours.cpu / plain.cpu).toFixed(2)),
    cpuVsFloor720p: Number(at720.ratio.toFixed(2)),
    cpuVsFloor720pPerMinute: Number(steady720.toFixed(2)),
    cpuVsFloor1080pHevc: Number(at1080p.ratio.toFixed(2)),
    cpuVsFloor1080i: Number(at1080i.ratio.toFixed(2)),
    sustainedStreams: sustained,
  }),
);
