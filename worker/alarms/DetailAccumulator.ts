/**
 * Sums up an incident's figures: `peak…`/`max…` keep the largest, `min…` the smallest,
 * `count…` add up, `offset…` keep the latest (a measurement that refines itself: the A/V offset
 * from the most recent pairs, or from every picture once those are decoded), other numbers
 * average, anything else keeps its latest value.
 */
import type { Detail } from '../detectors/types.js';

export class DetailAccumulator {
  private values: Record<string, number | string | boolean> = {};
  private sums: Record<string, number> = {};
  private counts: Record<string, number> = {};

  /** Called for every active observation (tens a second per rule): no arrays, no patterns. */
  add(detail: Detail | undefined): void {
    if (!detail) return;
    for (const key in detail) {
      const value = detail[key];
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        this.values[key] = value;
        continue;
      }
      const prior = this.values[key];
      if (key.startsWith('peak') || key.startsWith('max'))
        this.values[key] = typeof prior === 'number' ? Math.max(prior, value) : value;
      else if (key.startsWith('min'))
        this.values[key] = typeof prior === 'number' ? Math.min(prior, value) : value;
      else if (key.startsWith('offset')) this.values[key] = value;
      else if (key.startsWith('count')) this.values[key] = (typeof prior === 'number' ? prior : 0) + value;
      else {
        this.sums[key] = (this.sums[key] ?? 0) + value;
        this.counts[key] = (this.counts[key] ?? 0) + 1;
        this.values[key] = Math.round((this.sums[key] / this.counts[key]) * 100) / 100;
      }
    }
  }

  snapshot(): Detail {
    return { ...this.values };
  }
}
