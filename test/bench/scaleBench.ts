/**
 * `npm run bench:scale`: the lease and registry protocol at scale on this machine. 1,000 streams
 * registered through the real API (HTTP on 127.0.0.1, embedded DynamoDB-compatible store) over
 * 16 worker processes whose units run the stand-in (worker/agent/ScaleHarnessStandIn.ts: no
 * decoding). Then a worker is killed (SIGKILL), one is added, one is drained (SIGTERM), and the
 * fleet is doubled to 32. Reports time to full assignment, units moved per event against the
 * ideal, and DynamoDB calls per worker per minute at 16 and at 32 workers. The last line is the
 * JSON summary outside checks read.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createHandler } from '../../dispatcher/handler.js';
import { createHttpServer } from '../../dispatcher/httpServer.js';
import { NoopLauncher } from '../../dispatcher/launcher.js';
import { startEmbeddedStore } from '../../local/embeddedStore.js';
import { projectRoot } from '../../shared/projectRoot.js';
import { Registry } from '../../shared/registry/Registry.js';
import {
  callsPerWorkerMinute,
  duplicateUnits,
  readStandIn,
  runningNow,
  startsAfter,
} from '../helpers/standInLog.js';

const STREAMS = Number(process.env.SCALE_STREAMS ?? 1000);
const WORKERS = Number(process.env.SCALE_WORKERS ?? 16);
const BUDGET = Math.ceil((STREAMS / (WORKERS - 1)) * 1.2);
const WINDOW_MS = Number(process.env.SCALE_WINDOW_SECONDS ?? 30) * 1000;
const HEARTBEAT_SECONDS = 1;
const LEASE_SECONDS = 5;
const KEY = 'scale-bench-key';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const dir = mkdtempSync(join(tmpdir(), 'streamqc-scale-'));
const standIn = join(dir, 'standin');
mkdirSync(standIn, { recursive: true });
const logger = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => process.stdout.write(`${line}\n`);

const store = await startEmbeddedStore();
const registry = new Registry({ endpoint: store.endpoint, region: 'local', tablePrefix: 'scale' });
await registry.ensureTables();
const security = { localMode: true, allowFiles: false, allowedNetworks: [] };
const server = createHttpServer({
  handler: createHandler({
    registry,
    security,
    launcher: new NoopLauncher(),
    logger,
    version: 'bench',
    detectorGroups: '',
    workerBudget: BUDGET,
    minWorkers: 0,
    maxWorkers: 10_000,
  }),
  apiKeys: new Map([[KEY, 'bench']]),
  maxBodyBytes: 16 * 1024,
  logger,
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const workers = new Map<string, ChildProcess>();
const killedAt = new Map<string, number>();
let nextWorker = 1;
function addWorker(): string {
  const id = `w${String(nextWorker++).padStart(2, '0')}`;
  const child = spawn(process.execPath, [join(projectRoot(), 'dist', 'worker', 'main.js')], {
    env: {
      ...process.env,
      STREAMQC_LOCAL: '1',
      STREAMQC_DYNAMODB_ENDPOINT: store.endpoint,
      STREAMQC_TABLE_PREFIX: 'scale',
      AWS_REGION: 'local',
      STREAMQC_WORKER_ID: id,
      STREAMQC_STREAM_BUDGET: String(BUDGET),
      STREAMQC_HEARTBEAT_SECONDS: String(HEARTBEAT_SECONDS),
      STREAMQC_LEASE_SECONDS: String(LEASE_SECONDS),
      STREAMQC_CONSOLE: '0',
      STREAMQC_RESEND_SECONDS: '0',
      STREAMQC_SCALE_HARNESS_STANDIN_DIR: standIn,
    },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  child.stderr?.pipe(createWriteStream(join(dir, `${id}.stderr.log`)));
  workers.set(id, child);
  return id;
}

const running = () => runningNow(readStandIn(standIn), killedAt);
async function waitFor(
  what: string,
  seconds: number,
  check: () => Promise<boolean> | boolean,
): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > seconds * 1000) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
  return (Date.now() - started) / 1000;
}
const fullyAssigned = () => running().size === STREAMS;

log(`# streamqc scale benchmark — ${new Date().toISOString()}`);
log(
  `${STREAMS} streams, ${WORKERS} workers (budget ${BUDGET} units each), heartbeat ${HEARTBEAT_SECONDS} s, lease ${LEASE_SECONDS} s, data in ${dir}\n`,
);
for (let i = 0; i < WORKERS; i++) addWorker();
await waitFor('workers to join', 60, async () => (await registry.fleet.all()).length === WORKERS);

// 1. Registration through the API, and time until every unit runs somewhere.
const registeredAt = Date.now();
let n = 0;
await Promise.all(
  Array.from({ length: 16 }, async () => {
    while (n < STREAMS) {
      const i = n++;
      const r = await fetch(`${base}/streams`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ url: `udp://127.0.0.1:${20000 + i}`, name: `s${i}` }),
      });
      if (r.status !== 201) throw new Error(`registration ${i}: ${r.status} ${await r.text()}`);
    }
  }),
);
const registrationSeconds = (Date.now() - registeredAt) / 1000;
await waitFor('full assignment', 300, fullyAssigned);
const secondsToFullAssignment = (Date.now() - registeredAt) / 1000;
log(
  `registered ${STREAMS} in ${registrationSeconds.toFixed(1)} s; all running ${secondsToFullAssignment.toFixed(1)} s after the first`,
);

// 2. Steady state at WORKERS workers.
await sleep(3000);
const windowA = Date.now();
await sleep(WINDOW_MS);
const cpmA = callsPerWorkerMinute(readStandIn(standIn), windowA, Date.now());

const events: Array<{ event: string; moved: number; ideal: number; seconds: number }> = [];
async function measure(event: string, ideal: number, act: () => void, settled: () => boolean) {
  const at = Date.now();
  act();
  const seconds = await waitFor(event, 120, settled);
  await sleep(3000); // anything still moving shows up
  events.push({ event, moved: startsAfter(readStandIn(standIn), at), ideal, seconds });
}

// 3. A worker killed with SIGKILL: its units, and only those, move.
const victim = [...workers.keys()][0];
const victimUnits = [...running().values()].filter((w) => w === victim).length;
await measure(
  `kill -9 ${victim}`,
  victimUnits,
  () => {
    workers.get(victim)?.kill('SIGKILL');
    killedAt.set(victim, Date.now());
    workers.delete(victim);
  },
  () => fullyAssigned() && ![...running().values()].includes(victim),
);

// 4. A worker added while every unit runs: nothing needs to move.
await measure(
  'add a worker',
  0,
  () => void addWorker(),
  () => true,
);

// 5. A worker drained with SIGTERM: its units move, the rest stay.
const drained = [...workers.keys()][0];
const drainedUnits = [...running().values()].filter((w) => w === drained).length;
await measure(
  `drain ${drained}`,
  drainedUnits,
  () => {
    workers.get(drained)?.kill('SIGTERM');
    workers.delete(drained);
  },
  () => fullyAssigned() && ![...running().values()].includes(drained),
);

// 6. The fleet doubled: calls per worker per minute should not grow with it.
while (workers.size < WORKERS * 2) addWorker();
await waitFor(
  'the doubled fleet to join',
  60,
  async () => (await registry.fleet.all()).length === WORKERS * 2,
);
await sleep(3000);
const windowB = Date.now();
await sleep(WINDOW_MS);
const records = readStandIn(standIn);
const cpmB = callsPerWorkerMinute(records, windowB, Date.now());

// 7. The end state: every unit running once, or waiting with a reason.
const now = runningNow(records, killedAt);
const ids: string[] = [];
let cursor: string | null = null;
do {
  const page = (await (
    await fetch(`${base}/streams?limit=100${cursor ? `&cursor=${cursor}` : ''}`, {
      headers: { authorization: `Bearer ${KEY}` },
    })
  ).json()) as { items: Array<{ id: string }>; nextCursor: string | null };
  ids.push(...page.items.map((s) => `${s.id}#all`));
  cursor = page.nextCursor;
} while (cursor);
const units = await registry.units.getMany(ids);
const waitingWithReason = units.filter((u) => u.pool?.startsWith('waiting') && u.waitReason).length;
const unassigned = ids.filter((id) => !now.has(id)).length - waitingWithReason;
const duplicates = duplicateUnits(records, killedAt).length;

log('\n| event | units moved | ideal | settled in s |');
log('|---|---|---|---|');
for (const e of events) log(`| ${e.event} | ${e.moved} | ${e.ideal} | ${e.seconds.toFixed(1)} |`);
log(
  `\nDynamoDB calls per worker per minute: ${cpmA.toFixed(0)} at ${WORKERS} workers, ${cpmB.toFixed(0)} at ${WORKERS * 2} workers (heartbeat ${HEARTBEAT_SECONDS} s)`,
);
log(
  `end: ${now.size} running, ${waitingWithReason} waiting with a reason, ${unassigned} unassigned, ${duplicates} ever run twice at once\n`,
);

for (const child of workers.values()) child.kill('SIGTERM');
await Promise.all(
  [...workers.values()].map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))),
);
server.close();
registry.destroy();
await store.close();
log(
  JSON.stringify({
    streams: STREAMS,
    workers: WORKERS,
    unassigned,
    duplicates,
    secondsToFullAssignment: Math.round(secondsToFullAssignment * 10) / 10,
    callsPerWorkerMinute: Math.round(cpmA),
    callsPerWorkerMinuteDoubled: Math.round(cpmB),
    movedPerEvent: Object.fromEntries(
      events.map((e) => [e.event.split(' ')[0], { moved: e.moved, ideal: e.ideal }]),
    ),
  }),
);
process.exit(0);
