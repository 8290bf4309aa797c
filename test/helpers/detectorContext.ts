/** A detector's context for unit tests: a file (not live), default thresholds, emits kept. */
import { resolveThresholds } from '../../shared/thresholds.js';
import type { DetectorContext, Observation } from '../../worker/detectors/types.js';

/** The context, and the observations the detector emits into it, in order. */
export function recordingContext(overrides: Partial<DetectorContext> = {}): {
  context: DetectorContext;
  seen: Observation[];
} {
  const seen: Observation[] = [];
  const context: DetectorContext = {
    thresholds: resolveThresholds(),
    emit: (o) => seen.push(o),
    live: false,
    expect: { audio: true, video: true },
    ...overrides,
  };
  return { context, seen };
}
