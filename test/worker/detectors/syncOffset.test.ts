/** The offset estimate from onset pairs, exact and with skipped pictures. */
import { describe, expect, it } from 'vitest';
import { estimateOffset, type OffsetPair } from '../../../worker/detectors/syncOffset.js';

const point = (t: number, offset: number): OffsetPair => ({ t, lo: offset, hi: offset });

describe('estimateOffset', () => {
  it('takes the median of the pairs that agree and leaves stray pairs out', () => {
    const estimate = estimateOffset(
      [point(1, 0.3), point(2, 0.31), point(3, -0.2), point(4, 0.29), point(5, 0.3)],
      0.04,
    );
    expect(estimate?.offset).toBeCloseTo(0.3, 3);
    expect(estimate?.agreeing.map((p) => p.t)).toEqual([1, 2, 4, 5]);
  });

  it('narrows intervals from different phases of the picture pattern to the true offset', () => {
    // True offset −0.2 s; two skipped pictures at 25 fps before each decoded one, the change at
    // a different one of the three each time.
    const truth = -0.2;
    const pairs = [0, 1, 2, 1, 0].map((phase, i) => ({
      t: i,
      lo: truth - (2 - phase) * 0.04,
      hi: truth + phase * 0.04,
    }));
    const estimate = estimateOffset(pairs, 0.04);
    expect(estimate?.lo).toBeCloseTo(truth, 3);
    expect(estimate?.hi).toBeCloseTo(truth, 3);
    expect(estimate?.agreeing).toHaveLength(5);
  });

  it('keeps the whole range when every change falls at the same phase', () => {
    const pairs = [0, 1, 2].map((i) => ({ t: i, lo: 0, hi: 0.08 }));
    const estimate = estimateOffset(pairs, 0.04);
    expect(estimate).toMatchObject({ lo: 0, hi: 0.08, offset: 0.04 });
  });

  it('returns null without pairs', () => {
    expect(estimateOffset([], 0.04)).toBeNull();
  });
});
