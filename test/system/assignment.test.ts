/**
 * Assignment that cannot lose a unit, on the local stack with real worker processes (whose units
 * run the scale harness's stand-in, so no decoding): 20 streams on 2 workers with a budget of 8
 * each run 16 and show 4 waiting with a reason; a worker killed with SIGKILL has its units taken
 * over by the other and its replacement, never running anywhere twice; a deleted stream frees
 * room for a waiting one.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../local/localStack.js';
import { callApi, until } from '../helpers/stackClient.js';
import { duplicateUnits, readStandIn, runningNow } from '../helpers/standInLog.js';

let stack: LocalStack;
const dir = mkdtempSync(join(tmpdir(), 'streamqc-assign-'));
const standIn = join(dir, 'standin');
const killedAt = new Map<string, number>();
const api = (method: string, path: string, body?: unknown) =>
  callApi(stack.url, stack.apiKey!, method, path, body);
const running = () => runningNow(readStandIn(standIn), killedAt);

beforeAll(async () => {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  process.env.STREAMQC_STREAM_BUDGET = '8';
  process.env.STREAMQC_MAX_WORKERS = '2';
  stack = await startLocalStack({
    dataDir: dir,
    port: 0,
    workers: 2,
    logger: pino({ level: 'silent' }),
    workerEnv: {
      STREAMQC_SCALE_HARNESS_STANDIN_DIR: standIn,
      STREAMQC_STREAM_BUDGET: '8',
      // Short enough for a quick takeover, long enough that a heartbeat late on a CI machine busy
      // with other tests does not show a live worker's units as moving.
      STREAMQC_HEARTBEAT_SECONDS: '1',
      STREAMQC_LEASE_SECONDS: '6',
      STREAMQC_CONSOLE: '0',
      // This test is about leases, not admission: stand-in units cost nothing, and a CI machine
      // busy with other tests (a browser among them) must not make these workers shed or hold
      // back claims for their own late event loop.
      STREAMQC_COLD_STREAM_CORES: '0.001',
      STREAMQC_LOOP_DELAY_SHED_SECONDS: '10',
    },
  });
  const { mkdirSync } = await import('node:fs');
  mkdirSync(standIn, { recursive: true });
}, 30_000);

afterAll(async () => {
  await stack?.stop();
  delete process.env.STREAMQC_STREAM_BUDGET;
  delete process.env.STREAMQC_MAX_WORKERS;
});

async function assignments(ids: string[]) {
  const views = await Promise.all(ids.map(async (id) => (await api('GET', `/streams/${id}`)).body));
  return views.map((v) => v.assignment[0] as { state: string; workerId: string | null; reason?: string });
}

describe('20 streams on 2 workers with a budget of 8', () => {
  const ids: string[] = [];

  it('runs exactly 16 and shows the other 4 waiting, with a reason', async () => {
    for (let i = 0; i < 20; i++) {
      const r = await api('POST', '/streams', { url: `udp://127.0.0.1:${41000 + i}`, name: `s${i}` });
      expect(r.status).toBe(201);
      ids.push(r.body.id);
    }
    await until('16 units running', 30, () => (running().size === 16 ? true : undefined));
    await new Promise((r) => setTimeout(r, 2000)); // stays so: nobody takes a 17th

    const now = running();
    const views = await assignments(ids);
    const perWorker = new Map<string, number>();
    for (const w of now.values()) perWorker.set(w, (perWorker.get(w) ?? 0) + 1);

    expect(now.size).toBe(16);
    expect([...perWorker.values()]).toEqual([8, 8]);
    expect(views.filter((a) => a.state === 'running')).toHaveLength(16);
    const waiting = views.filter((a) => a.state === 'waiting');
    expect(waiting).toHaveLength(4);
    for (const w of waiting) expect(w.reason).toMatch(/waiting for a worker with room/);
    expect(await stack.registry.units.countWaiting()).toBe(4);
    // What the API says runs is what runs, on the worker it names.
    views.forEach((a, i) => {
      if (a.state === 'running') expect(now.get(`${ids[i]}#all`)).toBe(a.workerId);
    });
  }, 60_000);

  it('after a SIGKILL, the other worker and the replacement take the units over, none run twice', async () => {
    const [victimId, victim] = [...stack.launcher.children.entries()][0];
    const before = running();
    const victimUnits = [...before].filter(([, w]) => w === victimId).map(([u]) => u);
    expect(victimUnits).toHaveLength(8);

    victim.process.kill('SIGKILL');
    killedAt.set(victimId, Date.now());
    // A replacement process starts and takes leases: on a CI machine shared with a browser test
    // that takes longer, so the wait is generous (it is a liveness check, not a timing one).
    await until('16 units running again', 90, () => {
      const now = running();
      return now.size === 16 && ![...now.values()].includes(victimId) ? true : undefined;
    });
    const views = await assignments(ids);

    expect(duplicateUnits(readStandIn(standIn), killedAt)).toEqual([]);
    expect(views.filter((a) => a.state === 'running')).toHaveLength(16);
    expect(views.filter((a) => a.state === 'waiting')).toHaveLength(4);
    // Units that ran on the survivor never moved.
    const survivorUnits = [...before].filter(([, w]) => w !== victimId);
    const now = running();
    for (const [unit, worker] of survivorUnits) expect(now.get(unit)).toBe(worker);
  }, 120_000);

  it('a deleted stream frees room: a waiting unit starts in its place', async () => {
    const views = await assignments(ids);
    const runningIndex = views.findIndex((a) => a.state === 'running');
    const deleted = ids[runningIndex];

    expect((await api('DELETE', `/streams/${deleted}`)).status).toBe(200);
    await until('the deleted unit stopped and a waiting one started', 45, () => {
      const now = running();
      return now.size === 16 && !now.has(`${deleted}#all`) ? true : undefined;
    });

    expect(await stack.registry.units.countWaiting()).toBe(3);
    expect(duplicateUnits(readStandIn(standIn), killedAt)).toEqual([]);
  }, 60_000);
});
