/**
 * audio.silence and audio.clipping hand their 20 ms blocks to the alarm tracker as runs
 * (BlockRuns): the incidents must be exactly those the blocks one by one give.
 */
import { describe, expect, it } from 'vitest';
import type { DefectEvent } from '../../../shared/events.js';
import { resolveThresholds } from '../../../shared/thresholds.js';
import { AlarmTracker } from '../../../worker/alarms/AlarmTracker.js';
import { BlockRuns } from '../../../worker/detectors/audioBlocks.js';
import type { Detail, Observation } from '../../../worker/detectors/types.js';
import { random } from '../../helpers/random.js';

interface Block {
  active: boolean;
  peak: number;
  clippedRuns: number;
  overRange: number;
}

/** Runs of agreeing blocks, long and short (flicker, gaps the tracker bridges, flapping). */
function blocks(rand: () => number, count: number): Block[] {
  const out: Block[] = [];
  while (out.length < count) {
    const active = rand() < 0.5;
    const length = rand() < 0.3 ? 1 + Math.floor(rand() * 4) : 1 + Math.floor(rand() * 200);
    for (let i = 0; i < length; i++) {
      out.push({
        active,
        peak: rand(),
        clippedRuns: active ? Math.floor(rand() * 3) : 0,
        overRange: active ? Math.floor(rand() * 2) : 0,
      });
    }
  }
  return out.slice(0, count);
}

function incidents(type: 'audio.silence' | 'audio.clipping', feed: (emit: (o: Observation) => void) => void) {
  const events: DefectEvent[] = [];
  const tracker = new AlarmTracker({
    streamId: 's',
    thresholds: resolveThresholds(),
    onEvent: (e) => events.push(e),
  });
  let end = 0;
  feed((o) => {
    expect(o.type).toBe(type);
    end = o.t + o.duration;
    tracker.observe(o);
  });
  tracker.finish(end);
  return events;
}

describe('BlockRuns', () => {
  for (const type of ['audio.silence', 'audio.clipping'] as const) {
    it(`${type}: the incidents of the runs are those of the blocks`, () => {
      for (let seed = 1; seed <= 20; seed++) {
        const all = blocks(random(seed), 6000);
        const detail = (peak: number, clippedRuns: number, overRange: number, active: boolean): Detail =>
          type === 'audio.clipping' && active
            ? {
                countClippedRuns: clippedRuns,
                countOverRange: overRange,
                peakDbfs: Math.round(peak * 100) / 100,
              }
            : { peakDbfs: Math.round(peak * 10) / 10 };
        // 48 kHz, 960-frame blocks, 4800-frame chunks: t as the detectors compute it.
        const at = (k: number) => ({
          t: 7.25 + Math.floor(k / 5) * 0.1 + ((k % 5) * 960) / 48000,
          duration: 960 / 48000,
        });
        const oneByOne = incidents(type, (emit) => {
          all.forEach((b, k) => {
            emit({
              type,
              ...at(k),
              active: b.active,
              detail: detail(b.peak, b.clippedRuns, b.overRange, b.active),
            });
          });
        });
        const asRuns = incidents(type, (emit) => {
          const runs = new BlockRuns(emit, type, (run) =>
            detail(run.peak, run.clippedRuns, run.overRange, run.active),
          );
          all.forEach((b, k) => {
            runs.add(at(k).t, at(k).duration, b.active, b.peak, b.clippedRuns, b.overRange);
            if (k % 5 === 4) runs.end();
          });
          runs.end();
        });
        expect(oneByOne.length).toBeGreaterThan(0);
        // The same incidents, dated alike; the figures of a raise may take in the rest of the run
        // in its chunk (≤ 0.1 s more: never less, never other figures).
        const withoutDetail = (events: DefectEvent[]) => events.map(({ detail, ...e }) => e);
        expect(withoutDetail(asRuns)).toEqual(withoutDetail(oneByOne));
        asRuns.forEach((e, i) => {
          const before = oneByOne[i].detail;
          expect(Object.keys(e.detail).sort()).toEqual(Object.keys(before).sort());
          for (const [key, value] of Object.entries(e.detail)) {
            if (typeof value === 'number' && (key.startsWith('count') || key.startsWith('peak')))
              expect(value).toBeGreaterThanOrEqual(before[key] as number);
            else expect(value).toEqual(before[key]);
          }
        });
      }
    });
  }

  it('hands on a chunk as one observation per run of agreeing blocks', () => {
    const seen: Observation[] = [];
    const runs = new BlockRuns(
      (o) => seen.push(o),
      'audio.silence',
      (run) => ({ peak: run.peak }),
    );
    runs.add(1, 0.02, true, 0.1);
    runs.add(1.02, 0.02, true, 0.3);
    runs.add(1.04, 0.02, false, 0.9);
    runs.add(1.06, 0.02, true, 0.2);
    runs.end();
    runs.end();
    expect(seen.map((o) => [o.t, Number(o.duration.toFixed(6)), o.active, o.detail?.peak])).toEqual([
      [1, 0.04, true, 0.3],
      [1.04, 0.02, false, 0.9],
      [1.06, 0.02, true, 0.2],
    ]);
  });
});
