/**
 * `npm run bench:delivery`: what watching an HLS ladder costs on top of decoding it. A healthy
 * 3-rendition live ladder (640×360 / 480×270 / 320×180, 2 s segments) from a local origin, then,
 * one after another for BENCH_SECONDS (default 60) each:
 *   plain   — `ffmpeg -i <top rendition> -f null -` (one thread): decoding alone;
 *   without — the monitor on the top rendition's playlist, every media detector, no delivery monitor;
 *   with    — the monitor on the multivariant playlist, every detector: playlists of all three
 *             renditions polled, the decoded one's segments timed through the proxy, the two
 *             others sampled every 6 s with a key-frame probe.
 * CPU is each run's process tree (user + system from /proc, ffmpeg children included) over
 * BENCH_SECONDS after a 12 s warm-up (process start, probing and the first segments not counted).
 * BENCH_FORMAT=dash packages the ladder as live DASH: plain and without are then FFmpeg's own
 * DASH reader on the MPD (what a user would get without the delivery layer), with is the monitor
 * reading the MPD and handing FFmpeg HLS playlists. The last line is JSON.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHlsLadder } from '../helpers/hlsLadder.js';
import { descendants } from '../helpers/processes.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const FORMAT = process.env.BENCH_FORMAT === 'dash' ? 'dash' : 'hls';
/** Seconds each run settles first (process start, tsx, probing, the first segments): not measured. */
const WARMUP = 12;
const TICKS = 100;

/** CPU seconds of a process and every live descendant, each with its reaped children. */
function treeCpu(pid: number): number {
  let ticks = 0;
  for (const p of [pid, ...descendants(pid)]) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch {
      // ended meanwhile
    }
  }
  return ticks / TICKS;
}

/** Runs a command, measures its process tree's CPU over SECONDS after WARMUP, then stops it. */
async function measure(command: string, args: string[]): Promise<{ cpu: number; out: string }> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout?.on('data', (c) => {
    out += c;
  });
  const closed = new Promise((r) => child.on('close', r));
  await sleep(WARMUP * 1000);
  const before = treeCpu(child.pid as number);
  await sleep(SECONDS * 1000);
  const cpu = treeCpu(child.pid as number) - before;
  child.kill('SIGINT');
  await closed;
  return { cpu, out };
}

const ladder = await startHlsLadder(
  mkdtempSync(join(tmpdir(), 'streamqc-bench-')),
  [],
  3 * (SECONDS + 60) + 60,
  FORMAT,
);
console.log(`# delivery bench (${FORMAT}) — ${new Date().toISOString()}, ${SECONDS} s per run`);
const top = FORMAT === 'dash' ? ladder.url : ladder.rendition(0);
const plain = await measure('ffmpeg', [
  '-v',
  'error',
  '-nostdin',
  '-threads',
  '1',
  '-i',
  top,
  '-f',
  'null',
  '-',
]);
const runner = ['--import', 'tsx', 'test/bench/deliveryCostRun.ts'];
const runFor = String(WARMUP + SECONDS + 30);
const without = await measure('node', [...runner, 'without', top, runFor]);
const withDelivery = await measure('node', [...runner, 'with', ladder.url, runFor]);
await ladder.stop();

const perSecond = (cpu: number) => Math.round((cpu / SECONDS) * 1000) / 10;
const rows = [
  ['plain ffmpeg decode', plain.cpu],
  ['monitor, no delivery', without.cpu],
  ['monitor + delivery', withDelivery.cpu],
] as const;
for (const [name, cpu] of rows)
  console.log(`${name.padEnd(22)} ${(cpu / SECONDS).toFixed(3)} CPU s/s (${perSecond(cpu)} % of a core)`);
console.log(`runs: ${without.out.trim()} ${withDelivery.out.trim()}`);
console.log(
  JSON.stringify({
    format: FORMAT,
    seconds: SECONDS,
    plainCpuPercent: perSecond(plain.cpu),
    withoutDeliveryCpuPercent: perSecond(without.cpu),
    withDeliveryCpuPercent: perSecond(withDelivery.cpu),
    withoutRatio: Math.round((without.cpu / plain.cpu) * 100) / 100,
    withRatio: Math.round((withDelivery.cpu / plain.cpu) * 100) / 100,
    deliveryCpuPercent: perSecond(withDelivery.cpu - without.cpu),
  }),
);
process.exit(0);
