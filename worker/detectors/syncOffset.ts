/**
 * The audio/video offset from onset pairs whose visual time may be uncertain.
 *
 * With every picture decoded, a visual onset is dated to the picture where the change appears and
 * a pair gives one offset. When pictures in between were not decoded (the `reference` profile
 * skips pictures nothing is predicted from), the change happened at one of the skipped pictures
 * or at the decoded one, so a pair gives an interval of offsets [lo, hi]. Pairs at different
 * phases of the picture pattern narrow it down together: the offset lies in all of them.
 */

/** One pair: the visual onset's media time and the offsets it allows (audio minus video, s). */
export interface OffsetPair {
  t: number;
  lo: number;
  hi: number;
}

export interface OffsetEstimate {
  /** Best single value, seconds. */
  offset: number;
  /** The offsets every agreeing pair allows (lo ≤ hi), or the estimate itself when they disagree slightly. */
  lo: number;
  hi: number;
  /** The pairs that agree with the estimate, oldest first. */
  agreeing: OffsetPair[];
}

/**
 * The offset most pairs agree on: the value lying within `tolerance` of the most pair intervals
 * (the middle of the widest such run when several tie), the agreeing pairs being those it lies
 * within `tolerance` of. Returns the range their intervals share, and its middle as the offset;
 * when they share none (measurement jitter), the median of their clamped middles.
 */
export function estimateOffset(pairs: readonly OffsetPair[], tolerance: number): OffsetEstimate | null {
  if (pairs.length === 0) return null;
  // Sweep the interval edges, widened by the tolerance, to find the best-covered stretch.
  const edges: { x: number; delta: number }[] = [];
  for (const p of pairs) {
    edges.push({ x: p.lo - tolerance, delta: 1 }, { x: p.hi + tolerance, delta: -1 });
  }
  edges.sort((a, b) => a.x - b.x || b.delta - a.delta);
  let depth = 0;
  let best = -1;
  let bestFrom = 0;
  let bestTo = 0;
  for (let i = 0; i < edges.length; i++) {
    depth += edges[i].delta;
    if (edges[i].delta > 0 && depth > best) {
      best = depth;
      bestFrom = edges[i].x;
      bestTo = edges[i + 1]?.x ?? edges[i].x;
    }
  }
  const x = (bestFrom + bestTo) / 2;
  const agreeing = pairs.filter((p) => p.lo - tolerance <= x && x <= p.hi + tolerance);
  const lo = Math.max(...agreeing.map((p) => p.lo));
  const hi = Math.min(...agreeing.map((p) => p.hi));
  if (lo <= hi) return { offset: (lo + hi) / 2, lo, hi, agreeing };
  const middles = agreeing.map((p) => Math.min(Math.max((p.lo + p.hi) / 2, hi), lo));
  const offset = medianOf(middles);
  return { offset, lo: offset, hi: offset, agreeing };
}

export function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
