/** The alarm tracker's lifecycle: hold-off, flicker tolerance, one raise and one clear per incident. */
import { describe, expect, it } from 'vitest';
import type { DefectEvent } from '../../../shared/events.js';
import { resolveThresholds } from '../../../shared/thresholds.js';
import { AlarmTracker } from '../../../worker/alarms/AlarmTracker.js';

function tracker() {
  const events: DefectEvent[] = [];
  const t = new AlarmTracker({
    streamId: 's1',
    thresholds: resolveThresholds(),
    onEvent: (e) => events.push(e),
  });
  /** Feeds black-detector-like frames at 25 fps: active over [from, to). */
  const frames = (from: number, to: number, active: boolean) => {
    for (let f = Math.round(from * 25); f < Math.round(to * 25); f++) {
      t.observe({
        type: 'video.black',
        t: f / 25,
        duration: 0.04,
        active,
        detail: { meanLuma: active ? 1 : 40 },
      });
    }
  };
  return { t, events, frames };
}

describe('AlarmTracker hold-off', () => {
  it('does not raise a condition shorter than the rule (0.9 s black under a 1 s rule)', () => {
    const { t, events, frames } = tracker();
    frames(0, 2, false);
    frames(2, 2.9, true);
    frames(2.9, 5, false);
    t.finish(5);

    expect(events).toEqual([]);
  });

  it('raises once the condition has held for the rule, dated from its start', () => {
    const { events, frames } = tracker();
    frames(0, 2, false);
    frames(2, 3.5, true);

    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'video.black',
      state: 'raised',
      start: 2,
      end: null,
      severity: 'critical',
    });
  });
});

describe('AlarmTracker clearing', () => {
  it('clears once with the same dedup key, ending where the condition stopped', () => {
    const { events, frames } = tracker();
    frames(0, 1, false);
    frames(1, 4, true);
    frames(4, 6, false);

    expect(events.map((e) => e.state)).toEqual(['raised', 'cleared']);
    expect(events[1]).toMatchObject({ start: 1, end: 4, detail: { meanLuma: 1 } });
    expect(events[1].dedupKey).toBe(events[0].dedupKey);
  });

  it('does not flap on a one-frame flicker inside a raised alarm', () => {
    const { events, frames } = tracker();
    frames(0, 3, true);
    frames(3, 3.04, false);
    frames(3.04, 5, true);
    frames(5, 7, false);

    expect(events.map((e) => e.state)).toEqual(['raised', 'cleared']);
  });

  it('closes a condition still holding at the end of the input', () => {
    const { t, events, frames } = tracker();
    frames(0, 1, false);
    frames(1, 3, true);
    t.finish(3);

    expect(events.at(-1)).toMatchObject({ state: 'cleared', start: 1, end: 3 });
  });

  it('clears every open alarm when monitoring stops', () => {
    const { t, events, frames } = tracker();
    frames(0, 2, true);
    t.clearAll(2);

    expect(events.map((e) => e.state)).toEqual(['raised', 'cleared']);
    expect(t.openAlarms()).toEqual([]);
  });
});

describe('AlarmTracker restore after a restart', () => {
  it('does not raise an alarm a second time that was open before the restart', () => {
    const first = tracker();
    first.frames(0, 2, true);
    const open = first.t.openAlarms();
    const second = tracker();
    second.t.restore(open);

    second.frames(10, 12, true);
    second.frames(12, 14.5, false);

    expect(second.events.map((e) => e.state)).toEqual(['cleared']);
    expect(second.events[0].dedupKey).toBe(first.events[0].dedupKey);
  });
});

describe('AlarmTracker flapping', () => {
  it('turns a picture black for 1.5 s every 3 s into one flapping incident', () => {
    const { t, events, frames } = tracker();
    for (let s = 0; s < 60; s += 3) {
      frames(s, s + 1.5, true);
      frames(s + 1.5, s + 3, false);
    }
    t.finish(60);

    const raised = events.filter((e) => e.state === 'raised');
    expect(raised).toHaveLength(1);
    const last = events.at(-1)!;
    expect(last).toMatchObject({ state: 'cleared', start: 0, detail: { flapping: true, flapCount: 20 } });
    expect(last.end).toBeCloseTo(58.5, 1);
  });

  it('keeps incidents far apart separate and not flapping', () => {
    const { t, events, frames } = tracker();
    frames(0, 5, false);
    frames(5, 8, true);
    frames(8, 40, false);
    frames(40, 43, true);
    frames(43, 60, false);
    t.finish(60);

    const cleared = events.filter((e) => e.state === 'cleared');
    expect(cleared.map((e) => [e.start, e.end])).toEqual([
      [5, 8],
      [40, 43],
    ]);
    expect(cleared.every((e) => e.detail.flapping === undefined)).toBe(true);
  });
});

describe('AlarmTracker periodic conditions', () => {
  it('keeps a 3 s black every 12 s as one incident per black, none flapping', () => {
    const { t, events, frames } = tracker();
    for (let s = 0; s < 48; s += 12) {
      frames(s, s + 3, false);
      frames(s + 3, s + 6, true);
      frames(s + 6, s + 12, false);
    }
    t.finish(48);

    const cleared = events.filter((e) => e.state === 'cleared');
    expect(cleared.map((e) => e.start)).toEqual([3, 15, 27, 39]);
    expect(cleared.every((e) => e.detail.flapping === undefined)).toBe(true);
  });
});
