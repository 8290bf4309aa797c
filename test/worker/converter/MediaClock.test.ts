/** The media clock on timestamp sequences a live source really produces. */
import { describe, expect, it } from 'vitest';
import { MediaClock } from '../../../worker/converter/MediaClock.js';

/** A clock on a fake wall clock, and a feeder of 25 fps video from a source timestamp. */
function live(segmented = false, outageSeconds = 3) {
  let now = 0;
  const clock = new MediaClock({ live: true, segmented, outageSeconds, now: () => now });
  const feed = (fromPts: number, seconds: number, wallStep = 40): (number | null)[] => {
    const out: (number | null)[] = [];
    for (let i = 0; i < Math.round(seconds * 25); i++) {
      now += wallStep;
      out.push(clock.place('video', fromPts + i * 0.04, 0.04));
    }
    return out;
  };
  const wait = (seconds: number) => {
    now += seconds * 1000;
  };
  return { clock, feed, wait };
}

describe('MediaClock on live sources', () => {
  it('starts at zero on the first sample and follows the source timestamps', () => {
    const { feed } = live();
    const t = feed(1000, 2);

    expect(t[0]).toBe(0);
    expect(t.at(-1)).toBeCloseTo(1.96, 6);
  });

  it('does not count the pause between HLS segment bursts as media time', () => {
    const { clock, feed, wait } = live(true, 3 + 6);
    feed(10, 6, 5);
    wait(5.5);
    const next = feed(16, 6, 5);

    expect(next[0]).toBeCloseTo(6, 6);
    expect(clock.discontinuities).toBe(0);
  });

  it('continues a splice (timestamps jump back, no outage) where the media ended', () => {
    const { clock, feed } = live();
    feed(500, 4);
    const after = feed(3, 2);

    expect(after[0]).toBeCloseTo(4, 6);
    expect(clock.discontinuities).toBe(1);
  });

  it('counts an outage as media time when the restarted source starts its timestamps again', () => {
    const { feed, wait } = live();
    feed(500, 4);
    wait(35);
    const after = feed(1.4, 1);

    expect(after[0]).toBeGreaterThan(4 + 34.9);
    expect(after[0]).toBeLessThan(4 + 35.2);
  });

  it('drops what a restarted converter re-reads of a segmented source, then goes on', () => {
    const { clock, feed, wait } = live(true);
    feed(100, 20);
    clock.beginRun();
    wait(1);
    const reread = feed(112, 8);
    const fresh = feed(120, 1);

    expect(reread.every((t) => t === null)).toBe(true);
    expect(fresh[0]).toBeCloseTo(20, 6);
    expect(clock.rereadSamples).toBe(200);
  });

  it('takes audio that lags across a discontinuity as part of the old epoch, not a jump', () => {
    const { clock, feed } = live();
    feed(500, 4);
    clock.place('audio', 503.86, 0.02);
    feed(3, 1);
    const straggler = clock.place('audio', 503.88, 0.02);

    expect(straggler).toBeCloseTo(3.88, 6);
  });

  it("places a track's first sound where its timestamps say when a segment's pictures all came first (fMP4)", () => {
    // An fMP4 segment is one fragment: its 2 s of pictures, then its 2 s of sound.
    const { clock, feed } = live(true);
    feed(0.021, 2, 1);
    const sound = [0, 0.1, 1.9].map((pts) => clock.place('audio', pts, 0.1));
    const next = feed(2.021, 1, 1);

    expect(sound[0]).toBeCloseTo(-0.021, 6);
    expect(sound[2]).toBeCloseTo(1.879, 6);
    expect(next[0]).toBeCloseTo(2, 6);
    expect(clock.discontinuities).toBe(0);
  });
});

describe('MediaClock continuing an earlier monitor (takeover)', () => {
  it("starts where the last worker's timeline stood plus the wall time since, then follows the source", () => {
    const { clock, feed, wait } = live();
    // The last worker decoded up to 213.3 s of media; 40 s of wall time pass before media comes here.
    clock.resume(213.3, 0);
    expect(clock.mediaTime).toBeCloseTo(213.3, 6);
    wait(40);
    const t = feed(5000, 2);

    expect(t[0]).toBeCloseTo(253.34, 6);
    expect(t.at(-1)).toBeCloseTo(255.3, 6);
    expect(clock.discontinuities).toBe(0);
  });

  it('is ignored once media was placed, and for files', () => {
    const { clock, feed } = live();
    feed(10, 1);
    clock.resume(500, 0);
    expect(feed(11, 1)[0]).toBeCloseTo(1, 6);

    const file = new MediaClock({ live: false, segmented: false, outageSeconds: 3 });
    file.resume(500, 0);
    expect(file.place('video', 2, 0.04)).toBe(0);
  });
});

describe('MediaClock on files', () => {
  it('keeps a hole in the timestamps as a hole (a file with missing media)', () => {
    const clock = new MediaClock({ live: false, segmented: false, outageSeconds: 3 });
    clock.setOrigin(1.4);
    clock.place('video', 1.4, 0.04);
    clock.place('video', 5.4, 0.04);

    expect(clock.place('video', 9.4, 0.04)).toBeCloseTo(8, 6);
  });
});
