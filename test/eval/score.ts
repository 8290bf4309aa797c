/** Scoring of reported incidents against a fixture's ground truth: matching, per-type figures. */
import type { DefectEvent, DefectType } from '../../shared/events.js';
import type { ExpectedIncident } from '../fixtures/fixtures.js';

const DEFAULT_TOLERANCE = 0.5;

export interface FixtureScore {
  matches: { want: ExpectedIncident; got: DefectEvent }[];
  falsePositives: DefectEvent[];
  falseNegatives: ExpectedIncident[];
}

/** Pairs each expected incident with the nearest reported one of its type within its tolerance. */
export function scoreFixture(expected: ExpectedIncident[], found: DefectEvent[]): FixtureScore {
  const unused = [...found];
  const matches: FixtureScore['matches'] = [];
  const falseNegatives: ExpectedIncident[] = [];
  for (const want of expected) {
    const tolerance = want.tolerance ?? DEFAULT_TOLERANCE;
    let best = -1;
    for (let i = 0; i < unused.length; i++) {
      const e = unused[i];
      if (e.type !== want.type || Math.abs(e.start - want.start) > tolerance) continue;
      if (best < 0 || Math.abs(e.start - want.start) < Math.abs(unused[best].start - want.start)) best = i;
    }
    if (best < 0) falseNegatives.push(want);
    else matches.push({ want, got: unused.splice(best, 1)[0] });
  }
  return { matches, falsePositives: unused, falseNegatives };
}

export interface TypeScore {
  fixtures: number;
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
  f1: number;
  onsetErrors: number[];
  offsetErrors: number[];
}

/** Adds up fixture scores per defect type. */
export function summarize(
  all: { expected: ExpectedIncident[]; score: FixtureScore }[],
): Map<DefectType, TypeScore> {
  const scores = new Map<DefectType, TypeScore>();
  const of = (type: DefectType) => {
    let s = scores.get(type);
    if (!s) {
      s = {
        fixtures: 0,
        tp: 0,
        fp: 0,
        fn: 0,
        precision: 1,
        recall: 1,
        f1: 1,
        onsetErrors: [],
        offsetErrors: [],
      };
      scores.set(type, s);
    }
    return s;
  };
  for (const { expected, score } of all) {
    for (const type of new Set(expected.map((e) => e.type))) of(type).fixtures++;
    for (const { want, got } of score.matches) {
      const s = of(want.type);
      s.tp++;
      s.onsetErrors.push(Math.abs(got.start - want.start));
      if (want.offsetMs !== undefined && typeof got.detail.offsetMs === 'number')
        s.offsetErrors.push(Math.abs(got.detail.offsetMs - want.offsetMs));
    }
    for (const e of score.falsePositives) of(e.type).fp++;
    for (const e of score.falseNegatives) of(e.type).fn++;
  }
  for (const s of scores.values()) {
    s.precision = s.tp + s.fp ? s.tp / (s.tp + s.fp) : 1;
    s.recall = s.tp + s.fn ? s.tp / (s.tp + s.fn) : 1;
    s.f1 = s.precision + s.recall ? (2 * s.precision * s.recall) / (s.precision + s.recall) : 0;
  }
  return scores;
}
