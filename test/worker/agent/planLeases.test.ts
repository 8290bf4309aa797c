/** The lease planner: what a worker claims, keeps, releases and stops on one tick. */
import { describe, expect, it } from 'vitest';
import { type LeaseSnapshot, planLeases } from '../../../worker/agent/planLeases.js';

const base: LeaseSnapshot = {
  workerId: 'w1',
  budget: 8,
  draining: false,
  running: [],
  held: [],
  waiting: [],
  behind: false,
  maxClaims: 16,
};
const ids = (n: number, prefix = 'u') =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(2, '0')}`);
const running = (unitIds: string[]) => unitIds.map((unitId, i) => ({ unitId, since: 1000 + i }));

describe('planLeases', () => {
  it('claims waiting units up to the budget, counted in units', () => {
    const plan = planLeases({ ...base, waiting: ids(20) });
    expect(plan.claim).toEqual(ids(8));
    expect(plan.room).toBe(8);

    const partly = planLeases({ ...base, running: running(ids(5)), held: ids(5), waiting: ids(4, 'w') });
    expect(partly.claim).toEqual(ids(3, 'w'));
    expect(partly.release).toEqual([]);
  });

  it('claims at most maxClaims in one tick', () => {
    expect(planLeases({ ...base, budget: 100, waiting: ids(50), maxClaims: 10 }).claim).toHaveLength(10);
  });

  it('at its budget claims nothing and moves nothing', () => {
    const plan = planLeases({ ...base, running: running(ids(8)), held: ids(8), waiting: ids(3, 'w') });
    expect(plan).toEqual({ stop: [], resume: [], release: [], claim: [], room: 0 });
  });

  it('stops units it runs but no longer holds, without releasing them', () => {
    const plan = planLeases({ ...base, running: running(ids(3)), held: ['u00', 'u02'] });
    expect(plan.stop).toEqual(['u01']);
    expect(plan.release).toEqual([]);
  });

  it('resumes held units that are not running', () => {
    expect(planLeases({ ...base, running: running(['u00']), held: ['u00', 'u01'] }).resume).toEqual(['u01']);
  });

  it('over budget releases the newest units with a reason, keeping the longest-running', () => {
    const plan = planLeases({ ...base, budget: 2, running: running(ids(4)), held: ids(4) });
    expect(plan.release.map((r) => r.unitId).sort()).toEqual(['u02', 'u03']);
    expect(plan.release[0].reason).toMatch(/over the budget/);
    expect(plan.claim).toEqual([]);
  });

  it('draining releases everything and claims nothing', () => {
    const plan = planLeases({
      ...base,
      draining: true,
      running: running(ids(3)),
      held: ids(3),
      waiting: ids(2, 'w'),
    });
    expect(plan.release.map((r) => r.unitId).sort()).toEqual(ids(3));
    expect(plan.release.every((r) => r.reason === 'worker w1 drained')).toBe(true);
    expect(plan.claim).toEqual([]);
  });

  it('falling behind stops claiming but moves nothing (lag also grows while a source is down)', () => {
    const behind = planLeases({
      ...base,
      running: running(ids(3)),
      held: ids(3),
      waiting: ids(2, 'w'),
      behind: true,
    });
    expect(behind.claim).toEqual([]);
    expect(behind.release).toEqual([]);
    expect(behind.room).toBe(0);
  });

  it('never claims a unit it already holds', () => {
    expect(
      planLeases({ ...base, running: running(['u00']), held: ['u00'], waiting: ['u00', 'u01'] }).claim,
    ).toEqual(['u01']);
  });

  it('over many random snapshots: never above budget, every running unit is held or stopped', () => {
    for (let seed = 1; seed < 500; seed++) {
      const rnd = (n: number) => ((seed * 2654435761) % 2 ** 32) % n;
      const all = ids(30);
      const held = all.filter((_, i) => (seed >> (i % 12)) & 1);
      const runningIds = all.filter((_, i) => (seed >> ((i + 3) % 12)) & 1);
      const snap: LeaseSnapshot = {
        ...base,
        budget: 1 + rnd(10),
        draining: seed % 17 === 0,
        running: running(runningIds),
        held,
        waiting: all.filter((id) => !held.includes(id)).slice(0, rnd(12)),
        behind: seed % 7 === 0,
      };
      const plan = planLeases(snap);
      const after = held.length - plan.release.length + plan.claim.length;
      expect(after).toBeLessThanOrEqual(Math.max(snap.budget, held.length - plan.release.length));
      if (!snap.draining) expect(held.length - plan.release.length).toBeLessThanOrEqual(snap.budget);
      for (const id of runningIds) expect(held.includes(id) || plan.stop.includes(id)).toBe(true);
      for (const id of plan.claim) expect(held).not.toContain(id);
    }
  });
});
