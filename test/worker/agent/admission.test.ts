/** Admission control: opens a few at a time, claims what the measured CPU allows, sheds when over. */
import { describe, expect, it } from 'vitest';
import { Headroom } from '../../../worker/agent/Headroom.js';
import { OpenCancelledError, OpenGate } from '../../../worker/agent/OpenGate.js';
import { planLeases } from '../../../worker/agent/planLeases.js';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('OpenGate', () => {
  it('never lets more units open at once than its concurrency, and opens every one', async () => {
    const gate = new OpenGate({ concurrency: 3, intervalMs: 0, holdLimitMs: 60_000 });
    let open = 0;
    let most = 0;
    const opened: number[] = [];

    await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const release = await gate.acquire(false);
        open++;
        most = Math.max(most, open);
        for (let k = 0; k < 1 + (i % 4); k++) await tick();
        open--;
        opened.push(i);
        release();
      }),
    );

    expect(most).toBe(3);
    expect(gate.peakInFlight).toBe(3);
    expect(opened.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('lets the re-open of a unit that was running go ahead of first opens', async () => {
    const gate = new OpenGate({ concurrency: 1, intervalMs: 0, holdLimitMs: 60_000 });
    const first = await gate.acquire(false);
    const order: string[] = [];
    const waits = [
      gate.acquire(false).then((r) => {
        order.push('new-1');
        r();
      }),
      gate.acquire(false).then((r) => {
        order.push('new-2');
        r();
      }),
      gate.acquire(true).then((r) => {
        order.push('was-running');
        r();
      }),
    ];

    first();
    await Promise.all(waits);

    expect(order).toEqual(['was-running', 'new-1', 'new-2']);
  });

  it("lets another owner's open go ahead of a burst of one owner's", async () => {
    const gate = new OpenGate({ concurrency: 2, intervalMs: 0, holdLimitMs: 60_000 });
    const order: string[] = [];
    const holds: Array<() => void> = [];
    const open = (owner: string, name: string) =>
      gate.acquire(false, undefined, owner).then((release) => {
        order.push(name);
        holds.push(release);
      });
    // 2 of a burst of 50 open; the other 48 wait; then bob registers one stream.
    const burst = Array.from({ length: 50 }, (_, i) => open('alice', `alice-${i}`));
    const bob = open('bob', 'bob-0');
    await tick();
    expect(order).toEqual(['alice-0', 'alice-1']);

    holds.shift()?.();
    await tick();
    expect(order.at(-1)).toBe('bob-0');
    while (holds.length) {
      holds.shift()?.();
      await tick();
    }
    await Promise.all([...burst, bob]);
    expect(order).toHaveLength(51);
  });

  it('gives up the place of a unit stopped while it waits', async () => {
    const gate = new OpenGate({ concurrency: 1, intervalMs: 0, holdLimitMs: 60_000 });
    const held = await gate.acquire(false);
    const abort = new AbortController();
    const waiting = gate.acquire(false, abort.signal);

    abort.abort();

    await expect(waiting).rejects.toBeInstanceOf(OpenCancelledError);
    expect(gate.queued).toBe(0);
    held();
    expect(gate.opening).toBe(0);
  });

  it('takes a slot back from a holder that never says it opened', async () => {
    const gate = new OpenGate({ concurrency: 1, intervalMs: 0, holdLimitMs: 20 });
    await gate.acquire(false);
    const next = await gate.acquire(false);
    expect(gate.opening).toBe(1);
    next();
  });
});

const options = {
  cores: 2,
  claimTarget: 0.9,
  shedAbove: 0.98,
  loopDelayShedSeconds: 0.3,
  coldStreamCores: 0.06,
};

/**
 * Feeds a headroom `samples` 2 s samples of a worker running `running` units at `cores` cores, on
 * a machine whose other processes use `others` cores.
 */
function measured(
  h: Headroom,
  running: number,
  cores: number,
  samples: number,
  loopDelayP99 = 0,
  from = 0,
  others = 0,
  lagging = 0,
) {
  let cpu = 0;
  let host = 1000;
  for (let i = 0; i <= samples; i++) {
    h.sample({
      now: from + i * 2000,
      cpuSeconds: cpu,
      hostCpuSeconds: host,
      running,
      young: 0,
      loopDelayP99,
      lagging,
    });
    cpu += cores * 2;
    host += (cores + others) * 2;
  }
  return from + samples * 2000;
}

describe('Headroom', () => {
  it('claims by the measured cost of a stream, up to the claim target', () => {
    const h = new Headroom(options);
    const now = measured(h, 10, 0.5, 40); // 0.05 cores a stream

    expect(h.perStreamCores).toBeCloseTo(0.05, 2);
    expect(h.room(now)).toBe(26); // (1.8 − 0.5) / 0.05
  });

  it('counts units just started at the measured cost before they show in the CPU', () => {
    const h = new Headroom(options);
    measured(h, 10, 0.5, 40);
    h.sample({ now: 82_000, cpuSeconds: 41, running: 30, young: 20, loopDelayP99: 0, lagging: 0 });

    expect(h.room(82_000)).toBeLessThanOrEqual(6);
  });

  it('sheds only after several samples over the line, then cools down', () => {
    const h = new Headroom(options);
    let now = measured(h, 40, 1.95, 40);
    expect(h.shed(now)).toBe(0);

    now = measured(h, 40, 2.0, 40, 0, now);
    const shed = h.shed(now);
    expect(shed).toBeGreaterThanOrEqual(4); // back under 1.8 of 2 cores at 0.05 a stream
    expect(shed).toBeLessThanOrEqual(10);
    expect(h.reason).toMatch(/using 2.00 of 2 cores/);
    expect(h.shed(now + 2000)).toBe(0);
    expect(h.room(now + 2000)).toBe(0);
  });

  it('leaves the cores that other processes on the machine use', () => {
    const h = new Headroom(options);
    const now = measured(h, 10, 0.5, 40, 0, 0, 0.8); // 0.05 cores a stream; 0.8 cores used by others

    expect(h.room(now)).toBe(10); // (1.8 − 1.3) / 0.05
  });

  it('judges the machine as a share when the worker has only part of it', () => {
    const h = new Headroom({ ...options, cores: 1, machineCores: 4 });
    // 0.3 cores its own (10 streams), the machine 2 of 4 cores busy: half the machine, 0.5 of 1 core.
    const now = measured(h, 10, 0.3, 40, 0, 0, 1.7);

    expect(h.hostCores).toBeCloseTo(0.5, 2);
    expect(h.room(now)).toBe(13); // (0.9 − 0.5) / 0.03 a stream
  });

  it('does not shed running streams because a neighbour keeps the machine busy, but claims no more', () => {
    const h = new Headroom(options);
    const now = measured(h, 10, 0.5, 40, 0, 0, 1.5); // the machine saturated by others

    expect(h.shed(now)).toBe(0);
    expect(h.room(now)).toBe(0);
  });

  it('takes a few units whatever a neighbour does, so a busy machine never starves it', () => {
    const h = new Headroom(options);
    const now = measured(h, 1, 0.05, 40, 0, 0, 1.95); // one unit of its own; others use the rest

    expect(h.room(now)).toBe(7); // up to 8 units
  });

  it('sheds when several streams fall behind the live edge, and claims back no higher for a while', () => {
    const h = new Headroom(options);
    let now = measured(h, 20, 1.0, 10, 0, 0, 0.9, 6);

    const shed = h.shed(now);
    expect(shed).toBeGreaterThanOrEqual(3); // half the streams behind
    expect(h.reason).toMatch(/6 streams behind the live edge/);
    now = measured(h, 20 - shed, 0.1, 30, 0, now, 0); // the machine now nearly idle
    expect(h.room(now)).toBe(0); // not above the load it just could not carry
  });

  it('sheds when the event loop stays late, even with CPU to spare', () => {
    const h = new Headroom(options);
    const now = measured(h, 8, 0.4, 10, 0.8);
    expect(h.shed(now)).toBeGreaterThan(0);
    expect(h.reason).toMatch(/event loop 800 ms late/);
  });
});

describe('planLeases with admission', () => {
  const base = { workerId: 'w1', budget: 50, draining: false, held: [], behind: false, maxClaims: 50 };
  it('claims no more than admission allows', () => {
    const plan = planLeases({ ...base, running: [], waiting: ['a', 'b', 'c', 'd'], admit: 2 });
    expect(plan.claim).toEqual(['a', 'b']);
  });

  it('sheds the newest units with the reason, and claims nothing meanwhile', () => {
    const running = ['old', 'mid', 'new'].map((unitId, i) => ({ unitId, since: 1000 * i }));
    const plan = planLeases({
      ...base,
      running,
      held: ['old', 'mid', 'new'],
      waiting: ['x'],
      shed: { count: 1, reason: 'worker w1 over its measured capacity' },
    });
    expect(plan.release).toEqual([{ unitId: 'new', reason: 'worker w1 over its measured capacity' }]);
    expect(plan.claim).toEqual([]);
  });
});
