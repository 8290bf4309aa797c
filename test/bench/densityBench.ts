/**
 * `npm run bench:density`: how many live streams ONE worker monitors on this machine, judged as a
 * user judges it: every injected defect raised on time, nothing else raised.
 *
 * N live 720p25 H.264 3 Mb/s + AAC feeds over UDP (`ffmpeg -re -c copy -f mpegts udp://…`; the
 * senders share the cores and are not counted), each with a 2 s black every 30 s, are registered
 * through the real API of the local stack into one worker. `burst` (default): all N registered one
 * after another without pause, as an onboarding script, a takeover or a deploy delivers them;
 * `step`: DENSITY_STEPS at a time. After a grace for opening (DENSITY_GRACE_SECONDS), over
 * DENSITY_SECONDS: each black on a running stream must be raised within hold-off + 1 s (2 s) of its
 * start on the wire (when the sender sent it), any other raise is a false alarm, and a stream that
 * the worker does not run must show `waiting` with a reason. CPU per stream (the worker and its
 * ffmpeg children, /proc), PSS per stream (smaps_rollup), the worker's event-loop delay p99.
 * The last line is the JSON summary.
 *
 * DENSITY_SOURCE=hls: each feed is a live HLS origin instead (the same clip packaged by
 * `ffmpeg -re -c copy -f hls`, 2 s segments, a sliding window, served over HTTP on 127.0.0.1; all
 * of them started before the burst), so the delivery monitor, the guard proxy and FFmpeg's HLS
 * reader run for every stream. A black reaches the worker only once its segment is published and
 * the playlist reloaded: on time is then within 2 s + three segments (8 s in all) of its start at the
 * packager. A raise is dated when the black reached the worker; FFmpeg opens a live playlist three
 * segments from its end and reads those at once, so a black in them (a stream opening late in a
 * burst) arrives up to four segments after it went out: a raise is that black when dated within
 * 3 s + four segments (11 s) of it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startLocalStack } from '../../local/localStack.js';
import { type HlsOrigin, startHlsOrigin, UdpSender } from '../helpers/liveOrigin.js';
import { descendants } from '../helpers/processes.js';
import { ROOT } from '../helpers/runCli.js';
import { callApi } from '../helpers/stackClient.js';
import { picturesCost } from './picturesCost.js';

const MODE = process.env.DENSITY_MODE === 'step' ? 'step' : 'burst';
const SOURCE = process.env.DENSITY_SOURCE === 'hls' ? 'hls' : 'udp';
/** HLS: the packager's segment length (the clip's GOP is 2 s). */
const SEGMENT_S = 2;
const STREAMS = Number(process.env.DENSITY_STREAMS ?? 40);
const STEPS =
  MODE === 'step' ? (process.env.DENSITY_STEPS ?? '8,16,24,32,40').split(',').map(Number) : [STREAMS];
const PROFILE = process.env.DENSITY_PROFILE ?? 'reference';
const GRACE_S = Number(process.env.DENSITY_GRACE_SECONDS ?? (MODE === 'step' ? 20 : 45));
const WINDOW_S = Number(process.env.DENSITY_SECONDS ?? (MODE === 'step' ? 60 : 120));
const BUDGET = Number(process.env.DENSITY_BUDGET ?? Math.max(...STEPS));
const METRICS_PORT = 19_191;
/** Black hold-off (1 s) + 1 s; HLS: plus three segments (published at its end, then a reload). */
const ON_TIME_S = SOURCE === 'hls' ? 2 + 3 * SEGMENT_S : 2;
/** How far a raise's date may be from the black's start on the wire. */
const DATED_WITHIN_S = SOURCE === 'hls' ? 3 + 4 * SEGMENT_S : 3;
/** Blacks of the clip: 2 s long, at these offsets of each 30 s. */
const BLACK_OFFSET_S = 20;
const BLACK_PERIOD_S = 30;
const BLACK_LENGTH_S = 2;
const CLOCK_TICKS = 100;
const CLIP_SECONDS = Math.ceil((MODE === 'step' ? STEPS.length : 1) * (GRACE_S + WINDOW_S) + 40);
// Pink noise at about −23 LUFS (inside the loudness rule), moving pictures, the blacks.
const CLIP = join(ROOT, 'test', '.fixtures', `density-720p25-${CLIP_SECONDS}s-v2.ts`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => process.stdout.write(`${line}\n`);

function makeClip(): void {
  if (existsSync(CLIP)) return;
  log(`encoding ${CLIP} (once)…`);
  mkdirSync(join(ROOT, 'test', '.fixtures'), { recursive: true });
  const black = `gte(t,${BLACK_OFFSET_S})*lt(mod(t-${BLACK_OFFSET_S},${BLACK_PERIOD_S}),${BLACK_LENGTH_S})`;
  execFileSync('ffmpeg', [
    ...['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=s=1280x720:r=25:d=${CLIP_SECONDS}`],
    ...['-f', 'lavfi', '-i', `anoisesrc=c=pink:a=0.4:r=48000:d=${CLIP_SECONDS}`],
    ...['-vf', `drawbox=c=black:t=fill:enable='${black}'`],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '3M', '-g', '50', '-pix_fmt', 'yuv420p'],
    ...['-c:a', 'aac', '-b:a', '128k', '-ac', '2', '-f', 'mpegts', `${CLIP}.part`],
  ]);
  renameSync(`${CLIP}.part`, CLIP);
}
makeClip();

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.STREAMQC_MAX_WORKERS = '1';
const dir = mkdtempSync(join(tmpdir(), 'streamqc-density-'));
const stack = await startLocalStack({
  dataDir: dir,
  port: 0,
  workers: 1,
  logger: pino({ level: 'silent' }),
  workerEnv: {
    STREAMQC_STREAM_BUDGET: String(BUDGET),
    STREAMQC_CONSOLE: '0',
    STREAMQC_METRICS_PORT: String(METRICS_PORT),
    STREAMQC_DECODE_PROFILE: PROFILE,
  },
});
const api = (method: string, path: string, body?: unknown) =>
  callApi(stack.url, stack.apiKey!, method, path, body);
const worker = [...stack.launcher.children.values()][0].process;

interface Feed {
  id: string;
  url: string;
  /** UDP: the sender, which reports when it sent each moment of the clip. */
  sender: UdpSender | null;
  /** HLS: the origin (its packager reads the clip at real time from startedAt). */
  origin: HlsOrigin | null;
  /** Wall ms the sender was started (the clip's 0 s on the wire). */
  startedAt: number;
  /** Wall ms the unit was first seen running, or null. */
  runningSince: number | null;
  waitingReason: string | null;
}
const feeds: Feed[] = [];

interface Seen {
  streamId: string;
  type: string;
  wallStartMs: number;
  observedAt: number;
}
const raises: Seen[] = [];
let ndjsonOffset = 0;
function readEvents(): void {
  let text: string;
  try {
    text = readFileSync(stack.ndjsonPath, 'utf8');
  } catch {
    return;
  }
  const now = Date.now();
  const fresh = text.slice(ndjsonOffset);
  const complete = fresh.lastIndexOf('\n') + 1;
  ndjsonOffset += complete;
  for (const line of fresh.slice(0, complete).split('\n')) {
    if (!line) continue;
    const e = JSON.parse(line) as { streamId: string; type: string; state: string; wallStart: string };
    if (e.state === 'raised')
      raises.push({
        streamId: e.streamId,
        type: e.type,
        wallStartMs: Date.parse(e.wallStart),
        observedAt: now,
      });
  }
}
const poll = setInterval(readEvents, 100);

async function watchStates(): Promise<void> {
  for (const feed of feeds) {
    const r = await api('GET', `/streams/${feed.id}`);
    const unit = r.body.assignment?.[0];
    const health = Object.values(r.body.health ?? {})[0] as { state?: string } | undefined;
    if (unit?.state === 'running' && health?.state === 'running' && feed.runningSince === null)
      feed.runningSince = Date.now();
    if (unit?.state === 'waiting') feed.waitingReason = unit.reason ?? 'waiting';
    else if (unit?.state === 'running') feed.waitingReason = null;
  }
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
const processes = () => [worker.pid!, ...descendants(worker.pid!)];
function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
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
const percentile = (xs: number[], p: number) =>
  xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(p * xs.length) - 1)] : 0;

interface Result {
  mode: string;
  streams: number;
  raisedOnTime: number;
  missed: number;
  falseAlarms: number;
  p99LatencySeconds: number;
  cpuPerStreamPercent: number;
  pssPerStreamMiB: number;
}

/**
 * Blacks of one feed whose start on the wire falls in [from, to) ms: when the sender reported
 * having sent that moment of the clip (FFmpeg's progress), not when it was started.
 */
function blacksOf(feed: Feed, from: number, to: number): number[] {
  const out: number[] = [];
  for (let t = BLACK_OFFSET_S; ; t += BLACK_PERIOD_S) {
    const wire = feed.sender?.wireTime(t) ?? feed.startedAt + t * 1000;
    if (wire >= to) return out;
    if (wire >= from) out.push(wire);
  }
}

/** Whether a raise is the injected black starting on the wire at `wire`. */
const isBlack = (r: Seen, wire: number) =>
  r.type === 'video.black' && Math.abs(r.wallStartMs - wire) < DATED_WITHIN_S * 1000;

log(`# streamqc density benchmark (${MODE}) — ${new Date().toISOString()}`);
log(
  `one worker (budget ${BUDGET}), decode profile "${PROFILE}", live 720p25 H.264 3 Mb/s + AAC ${SOURCE === 'hls' ? `as live HLS (${SEGMENT_S} s segments, one origin per stream)` : 'over UDP'}, every detector (transport checks on), a 2 s black every 30 s; grace ${GRACE_S} s, judged ${WINDOW_S} s\n`,
);
const results: Array<
  Result & { running: number; waiting: number; loopDelayP99Ms: number; openedWithinSeconds: number | null }
> = [];
for (const n of STEPS) {
  // HLS origins first (each lists its first segment within a few seconds), then the burst.
  const ready =
    SOURCE === 'hls'
      ? await Promise.all(
          Array.from({ length: n - feeds.length }, async (_, i) => {
            const startedAt = Date.now();
            const origin = await startHlsOrigin({
              clip: CLIP,
              dir: join(dir, 'origins', String(feeds.length + i)),
              segmentSeconds: SEGMENT_S,
              playlist: 'sliding',
            });
            return { origin, startedAt };
          }),
        )
      : [];
  const burstAt = Date.now();
  const added: Feed[] = [];
  while (feeds.length < n) {
    const hls = ready[added.length];
    const sender = hls ? null : new UdpSender(CLIP, 30_000 + feeds.length * 2);
    sender?.start({ progress: true });
    const feed: Feed = {
      id: '',
      url: hls ? hls.origin.url : sender!.url,
      sender,
      origin: hls?.origin ?? null,
      startedAt: hls?.startedAt ?? Date.now(),
      runningSince: null,
      waitingReason: null,
    };
    const r = await api('POST', '/streams', { url: feed.url, name: `density ${feeds.length}` });
    if (r.status !== 201) throw new Error(`registration failed: ${r.status} ${JSON.stringify(r.body)}`);
    feed.id = r.body.id;
    feeds.push(feed);
    added.push(feed);
  }
  const registeredIn = (Date.now() - burstAt) / 1000;
  const graceEnd = burstAt + GRACE_S * 1000;
  while (Date.now() < graceEnd) {
    await watchStates();
    await sleep(2000);
  }
  const openedAll = feeds.every((f) => f.runningSince !== null);
  const openedWithin = openedAll ? Math.max(...added.map((f) => f.runningSince! - burstAt)) / 1000 : null;
  const before = new Map(processes().map((p) => [p, cpuTicks(p)]));
  const windowStart = Date.now();
  const windowEnd = windowStart + WINDOW_S * 1000;
  const delays: number[] = [];
  while (Date.now() < windowEnd) {
    await watchStates();
    delays.push(...values(await metrics(), 'streamqc_event_loop_delay_p99_seconds'));
    await sleep(3000);
  }
  const seconds = (Date.now() - windowStart) / 1000;
  const ticks = processes().reduce((sum, p) => sum + cpuTicks(p) - (before.get(p) ?? 0), 0);
  const pss = processes().reduce((s, p) => s + pssKiB(p), 0) / 1024;
  await sleep((ON_TIME_S + 1) * 1000);
  readEvents();

  const running = feeds.filter((f) => f.runningSince !== null && f.waitingReason === null);
  const latencies: number[] = [];
  let missed = 0;
  for (const feed of running) {
    // A black is judged once the unit has run 5 s (its decoder is up) and the grace is over.
    const from = Math.max(windowStart, (feed.runningSince ?? 0) + 5000);
    for (const wire of blacksOf(feed, from, windowEnd - (ON_TIME_S + 1) * 1000)) {
      const raise = raises.find((r) => r.streamId === feed.id && isBlack(r, wire));
      const latency = raise ? (raise.observedAt - wire) / 1000 : Number.POSITIVE_INFINITY;
      if (latency <= ON_TIME_S) latencies.push(latency);
      else missed++;
    }
  }
  const falseAlarms = raises.filter((r) => {
    const feed = feeds.find((f) => f.id === r.streamId);
    return !feed || !blacksOf(feed, 0, Date.now()).some((wire) => isBlack(r, wire));
  });
  for (const r of falseAlarms)
    log(`  false alarm: ${r.type} on ${r.streamId} at ${new Date(r.wallStartMs).toISOString()}`);
  const waiting = feeds.filter((f) => f.waitingReason !== null);
  for (const f of waiting.slice(0, 3)) log(`  waiting: ${f.id}: ${f.waitingReason}`);
  const result = {
    mode: MODE,
    streams: n,
    raisedOnTime: latencies.length,
    missed,
    falseAlarms: falseAlarms.length,
    p99LatencySeconds: Math.round(percentile(latencies, 0.99) * 100) / 100,
    cpuPerStreamPercent:
      Math.round((ticks / CLOCK_TICKS / seconds / Math.max(1, running.length)) * 1000) / 10,
    pssPerStreamMiB: Math.round((pss / Math.max(1, running.length)) * 10) / 10,
    running: running.length,
    waiting: waiting.length,
    loopDelayP99Ms: Math.round(Math.max(0, ...delays) * 1000),
    openedWithinSeconds: openedWithin,
  };
  results.push(result);
  log(
    `${n} streams (registered in ${registeredIn.toFixed(1)} s; ${openedWithin === null ? 'not all running' : `all running within ${openedWithin.toFixed(1)} s`}): ${result.running} running, ${result.waiting} waiting; ${result.raisedOnTime} blacks on time, ${missed} missed, ${result.falseAlarms} false alarms, latency p99 ${result.p99LatencySeconds} s; ${result.cpuPerStreamPercent}% of a core and ${result.pssPerStreamMiB} MiB PSS per running stream; event-loop delay p99 ≤ ${result.loopDelayP99Ms} ms`,
  );
}

clearInterval(poll);
// DENSITY_DUMP=file: every feed's start on the wire and every raise seen, for a closer look.
if (process.env.DENSITY_DUMP)
  writeFileSync(
    process.env.DENSITY_DUMP,
    JSON.stringify({
      feeds: feeds.map(({ id, startedAt, runningSince }) => ({ id, startedAt, runningSince })),
      raises,
    }),
  );
for (const f of feeds) {
  f.sender?.stop();
  await f.origin?.stop();
}
await stack.stop();
// Thumbnails and evidence (on in every run above): what they add to a stream, measured apart.
const pictures = await picturesCost(CLIP);
log(
  `\nthumbnails + evidence: ${pictures.percentOfCore}% of a core per stream on top of analysis (converter ${(pictures.ffmpegWithout * 100).toFixed(2)}% → ${(pictures.ffmpegWith * 100).toFixed(2)}% of a core; the worker's part ${(pictures.node * 100).toFixed(3)}%)`,
);
log(
  '\n| mode | streams | running | waiting | blacks on time | missed | false alarms | latency p99, s | CPU per stream, % of a core | PSS per stream, MiB | event-loop delay p99, ms |',
);
log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of results)
  log(
    `| ${r.mode} | ${r.streams} | ${r.running} | ${r.waiting} | ${r.raisedOnTime} | ${r.missed} | ${r.falseAlarms} | ${r.p99LatencySeconds} | ${r.cpuPerStreamPercent} | ${r.pssPerStreamMiB} | ${r.loopDelayP99Ms} |`,
  );
const last = results.at(-1)!;
log(
  JSON.stringify({
    mode: last.mode,
    ...(SOURCE === 'hls' ? { source: SOURCE } : {}),
    streams: last.streams,
    raisedOnTime: last.raisedOnTime,
    missed: last.missed,
    falseAlarms: last.falseAlarms,
    p99LatencySeconds: last.p99LatencySeconds,
    cpuPerStreamPercent: last.cpuPerStreamPercent,
    pssPerStreamMiB: last.pssPerStreamMiB,
    picturesPercentOfCore: pictures.percentOfCore,
  }),
);
process.exit(0);
