/**
 * `npm run bench:density`: how many live streams ONE worker keeps in real time on this machine.
 * N live 720p25 H.264 3 Mb/s + AAC streams (`ffmpeg -re -stream_loop -1 -c copy -f mpegts udp://…`,
 * the senders not counted) are registered through the real API of the local stack, whose single
 * worker runs them all; N steps up until a stream falls behind. Per step, over a 30 s window after
 * a warm-up: CPU per stream (the worker process and its ffmpeg children, from /proc), PSS per
 * stream (smaps_rollup of the same processes), the worst lag behind the live edge and converter
 * restarts (the worker's /metrics). DENSITY_STEPS=8,16,… and DENSITY_PROFILE (the worker's
 * STREAMQC_DECODE_PROFILE) choose what runs. The last line is the JSON summary.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startLocalStack } from '../../local/localStack.js';
import { UdpSender } from '../helpers/liveOrigin.js';
import { descendants } from '../helpers/processes.js';
import { ROOT } from '../helpers/runCli.js';
import { callApi } from '../helpers/stackClient.js';

const STEPS = (process.env.DENSITY_STEPS ?? '8,16,24,32,40,44,48').split(',').map(Number);
const PROFILE = process.env.DENSITY_PROFILE ?? 'reference';
const WARMUP_MS = Number(process.env.DENSITY_WARMUP_SECONDS ?? 20) * 1000;
const WINDOW_MS = Number(process.env.DENSITY_WINDOW_SECONDS ?? 30) * 1000;
const METRICS_PORT = 19_191;
const MAX_LAG_SECONDS = 2;
const CLIP = join(ROOT, 'test', '.fixtures', 'bench-720p25-60s.ts');
const CLOCK_TICKS = 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => process.stdout.write(`${line}\n`);

if (!existsSync(CLIP)) {
  log(`missing ${CLIP}: run \`npm run bench:analyze\` once to encode it`);
  process.exit(2);
}

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const maxN = Math.max(...STEPS);
process.env.STREAMQC_STREAM_BUDGET = String(maxN);
process.env.STREAMQC_MAX_WORKERS = '1';
const dir = mkdtempSync(join(tmpdir(), 'streamqc-density-'));
const stack = await startLocalStack({
  dataDir: dir,
  port: 0,
  workers: 1,
  logger: pino({ level: 'silent' }),
  workerEnv: {
    STREAMQC_STREAM_BUDGET: String(maxN),
    STREAMQC_MAX_CLAIMS_PER_TICK: String(maxN),
    STREAMQC_CONSOLE: '0',
    STREAMQC_METRICS_PORT: String(METRICS_PORT),
    STREAMQC_DECODE_PROFILE: PROFILE,
  },
});
const api = (method: string, path: string, body?: unknown) =>
  callApi(stack.url, stack.apiKey!, method, path, body);
const worker = [...stack.launcher.children.values()][0].process;

const senders: UdpSender[] = [];
function addSender(i: number): string {
  const sender = new UdpSender(CLIP, 30_000 + i * 2);
  sender.start();
  senders.push(sender);
  return sender.url;
}

async function metrics(): Promise<string> {
  try {
    return await (await fetch(`http://127.0.0.1:${METRICS_PORT}/metrics`)).text();
  } catch {
    return '';
  }
}
const values = (text: string, name: string) =>
  [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'gm'))].map((m) => Number(m[1]));

function processes(): number[] {
  return [worker.pid!, ...descendants(worker.pid!)];
}
function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}
function pssKiB(pid: number): number {
  try {
    return Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

interface Step {
  streams: number;
  cpuPerStreamPercent: number;
  pssPerStreamMiB: number;
  maxLagSeconds: number;
  restarts: number;
  running: number;
  realtime: boolean;
}

log(`# streamqc density benchmark — ${new Date().toISOString()}`);
log(
  `one worker, decode profile "${PROFILE}", live 720p25 H.264 3 Mb/s + AAC over UDP, steps ${STEPS.join(', ')}\n`,
);
const steps: Step[] = [];
let registered = 0;
for (const n of STEPS) {
  while (registered < n) {
    const url = addSender(registered);
    const r = await api('POST', '/streams', { url, name: `density ${registered}` });
    if (r.status !== 201) throw new Error(`registration failed: ${r.status} ${JSON.stringify(r.body)}`);
    registered++;
  }
  const started = Date.now();
  while (Date.now() - started < 60_000) {
    if (values(await metrics(), 'streamqc_streams')[0] === n) break;
    await sleep(1000);
  }
  await sleep(WARMUP_MS);
  const before = new Map(processes().map((p) => [p, cpuTicks(p)]));
  const restartsBefore = values(await metrics(), 'streamqc_converter_restarts_total').reduce(
    (a, b) => a + b,
    0,
  );
  let maxLag = 0;
  const windowStart = Date.now();
  while (Date.now() - windowStart < WINDOW_MS) {
    await sleep(5000);
    maxLag = Math.max(maxLag, ...values(await metrics(), 'streamqc_lag_seconds'));
  }
  const seconds = (Date.now() - windowStart) / 1000;
  const now = processes();
  const ticks = now.reduce((sum, p) => sum + cpuTicks(p) - (before.get(p) ?? 0), 0);
  const text = await metrics();
  const restarts =
    values(text, 'streamqc_converter_restarts_total').reduce((a, b) => a + b, 0) - restartsBefore;
  const running = [...text.matchAll(/^streamqc_unit_state\{[^}]*state="running"\} 1$/gm)].length;
  const step: Step = {
    streams: n,
    cpuPerStreamPercent: Math.round((ticks / CLOCK_TICKS / seconds / n) * 1000) / 10,
    pssPerStreamMiB: Math.round((now.reduce((s, p) => s + pssKiB(p), 0) / 1024 / n) * 10) / 10,
    maxLagSeconds: Math.round(maxLag * 100) / 100,
    restarts,
    running,
    realtime: maxLag < MAX_LAG_SECONDS && restarts === 0 && running === n,
  };
  steps.push(step);
  log(
    `${n} streams: ${step.cpuPerStreamPercent}% of a core and ${step.pssPerStreamMiB} MiB PSS each, worst lag ${step.maxLagSeconds} s, ${restarts} restarts, ${running} running → ${step.realtime ? 'real time' : 'FALLS BEHIND'}`,
  );
  if (!step.realtime) break;
}

for (const s of senders) s.stop();
await stack.stop();
const best = steps.filter((s) => s.realtime).at(-1);
log(
  '\n| streams | CPU per stream, % of a core | PSS per stream, MiB | worst lag, s | restarts | real time |',
);
log('|---|---|---|---|---|---|');
for (const s of steps)
  log(
    `| ${s.streams} | ${s.cpuPerStreamPercent} | ${s.pssPerStreamMiB} | ${s.maxLagSeconds} | ${s.restarts} | ${s.realtime ? 'yes' : 'no'} |`,
  );
log(
  `\n(cores on this machine: ${readdirSync('/sys/devices/system/cpu').filter((d) => /^cpu\d+$/.test(d)).length})`,
);
log(
  JSON.stringify({
    profile: PROFILE,
    maxRealtimeStreams: best?.streams ?? 0,
    cpuPerStreamPercent: best?.cpuPerStreamPercent ?? null,
    pssPerStreamMiB: best?.pssPerStreamMiB ?? null,
    steps,
  }),
);
process.exit(0);
