/**
 * `npm run bench:delivery`: what watching an HLS ladder costs on top of decoding it. A healthy
 * 3-rendition live ladder (640×360 / 480×270 / 320×180, 2 s segments) from a local origin, then,
 * one after another for BENCH_SECONDS (default 60) each:
 *   plain   — `ffmpeg -i <top rendition> -f null -` (one thread): decoding alone;
 *   without — the monitor on the top rendition's playlist, every media detector, no delivery monitor;
 *   with    — the monitor on the multivariant playlist, every detector: playlists of all three
 *             renditions polled, the decoded one's segments timed through the proxy, the two
 *             others sampled every 6 s with a key-frame probe.
 * CPU is each run's process tree (user + system, from /proc/self/stat's reaped-children times).
 * The last line is JSON.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHlsLadder } from '../helpers/hlsLadder.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const TICKS = 100;

/** CPU seconds of this process's reaped children so far. */
function childrenCpu(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / TICKS;
}

function measure(command: string, args: string[], stopAfter?: number): Promise<{ cpu: number; out: string }> {
  const before = childrenCpu();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
    });
    const timer = stopAfter ? setTimeout(() => child.kill('SIGINT'), stopAfter * 1000) : null;
    child.on('error', reject);
    child.on('close', () => {
      if (timer) clearTimeout(timer);
      resolve({ cpu: childrenCpu() - before, out });
    });
  });
}

const ladder = await startHlsLadder(mkdtempSync(join(tmpdir(), 'streamqc-bench-')), [], 3 * SECONDS + 90);
console.log(`# delivery bench — ${new Date().toISOString()}, ${SECONDS} s per run`);
const top = ladder.rendition(0);
const plain = await measure(
  'ffmpeg',
  ['-v', 'error', '-nostdin', '-threads', '1', '-i', top, '-f', 'null', '-'],
  SECONDS,
);
const runner = ['--import', 'tsx', 'test/bench/deliveryCostRun.ts'];
const without = await measure('node', [...runner, 'without', top, String(SECONDS)]);
const withDelivery = await measure('node', [...runner, 'with', ladder.url, String(SECONDS)]);
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
