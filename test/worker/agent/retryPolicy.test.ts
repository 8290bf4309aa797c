/** When a live unit re-opens its source after a run ends (worker/agent/retryPolicy.ts). */
import { describe, expect, it } from 'vitest';
import { nextRetry } from '../../../worker/agent/retryPolicy.js';

describe('re-opening a live source', () => {
  it('re-opens at once after a run that delivered for 10 s and was cut short, and resets the backoff', () => {
    expect(nextRetry({ ended: false, ranForSeconds: 12, delivered: 300 }, 16)).toEqual({
      waitSeconds: 0.2,
      backoff: 1,
    });
  });

  it('backs off 1, 2, 4 … 30 s while the source fails to deliver', () => {
    const waits: number[] = [];
    let backoff = 1;
    for (let i = 0; i < 7; i++) {
      const r = nextRetry({ ended: false, ranForSeconds: 0.5, delivered: 0 }, backoff);
      waits.push(r.waitSeconds);
      backoff = r.backoff;
    }
    expect(waits).toEqual([1, 2, 4, 8, 16, 30, 30]);
  });

  it('a short run that delivered is not healthy: it backs off', () => {
    expect(nextRetry({ ended: false, ranForSeconds: 3, delivered: 50 }, 2)).toEqual({
      waitSeconds: 2,
      backoff: 4,
    });
  });

  it('waits at least 10 s before reading a closed playlist again, however long it ran', () => {
    expect(nextRetry({ ended: true, ranForSeconds: 60, delivered: 1500 }, 1)).toEqual({
      waitSeconds: 10,
      backoff: 20,
    });
    expect(nextRetry({ ended: true, ranForSeconds: 1, delivered: 0 }, 20)).toEqual({
      waitSeconds: 20,
      backoff: 30,
    });
  });
});
