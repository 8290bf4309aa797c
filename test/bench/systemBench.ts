/**
 * `npm run bench:system`: the local dispatcher's registration throughput and latency, and the
 * idle cost of a worker process. (Lease movement at scale: `npm run bench:scale`.)
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startLocalStack } from '../../local/localStack.js';
import { startTestApi } from '../helpers/apiServer.js';

const REQUESTS = 500;
const CONCURRENCY = 20;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

console.log(`# streamqc system benchmark — ${new Date().toISOString()}\n`);

// 1. Registration throughput and latency (real HTTP, real registry on the embedded store).
const api = await startTestApi();
const latencies: number[] = [];
let next = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    for (let i = next++; i < REQUESTS; i = next++) {
      const t0 = performance.now();
      const r = await api.call('POST', '/streams', {
        body: { url: `https://cdn.example.com/live/${i}.m3u8` },
      });
      if (r.status !== 201) throw new Error(`registration ${i} answered ${r.status}`);
      latencies.push(performance.now() - t0);
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
await api.close();
console.log(`| registrations | concurrency | throughput req/s | p50 ms | p95 ms | p99 ms |`);
console.log('|---|---|---|---|---|---|');
console.log(
  `| ${REQUESTS} | ${CONCURRENCY} | ${(REQUESTS / seconds).toFixed(0)} | ${percentile(latencies, 50).toFixed(1)} | ${percentile(latencies, 95).toFixed(1)} | ${percentile(latencies, 99).toFixed(1)} |`,
);

// 2. Idle cost of one worker process (heartbeats, lease reads, no streams) over 20 s.
const dir = mkdtempSync(join(tmpdir(), 'streamqc-bench-'));
const stack = await startLocalStack({
  dataDir: dir,
  port: 0,
  workers: 1,
  logger: pino({ level: 'silent' }),
  workerEnv: { STREAMQC_CONSOLE: '0' },
});
await new Promise((r) => setTimeout(r, 5000));
const child = [...stack.launcher.children.values()][0].process;
const ticks = () => {
  const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
};
const rssMb = () =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024;
const t0 = ticks();
await new Promise((r) => setTimeout(r, 20_000));
const cpuPercent = ((ticks() - t0) / 100 / 20) * 100;
console.log(
  `\nidle worker (default 2 s heartbeat): CPU ${cpuPercent.toFixed(2)}% of one core, RSS ${rssMb().toFixed(0)} MB`,
);
await stack.stop();
