/**
 * transport.*: the TR 101 290 checks of the stream's transport (TsAnalyzer), one detector per
 * event type. Any error of its kind in a tick makes that tick active; the incident ends after
 * `thresholds.transport.quietSeconds` without one (hysteresis.ts).
 */
import type { DefectType } from '../../shared/events.js';
import type { TransportErrors } from '../transport/TsAnalyzer.js';

type Counter = Exclude<
  keyof TransportErrors,
  'continuityByPid' | 'missingPackets' | 'duplicatePackets' | 'captions' | 'captionServices'
>;

import type { Detail, Detector, DetectorContext } from './types.js';

export type TransportType = Extract<DefectType, `transport.${string}`>;

/** Which counters of the analyser each event type reports (TR 101 290 numbering in docs/checks.md). */
const COUNTERS: Record<TransportType, Counter[]> = {
  'transport.sync': ['syncLoss', 'syncByte'],
  'transport.pat': ['pat'],
  'transport.pmt': ['pmt'],
  'transport.continuity': ['continuity'],
  'transport.pid': ['pid'],
  'transport.pcr': ['pcr', 'pcrAccuracy'],
  'transport.error': ['tei', 'crc', 'pts'],
};

export class TransportDetector implements Detector {
  constructor(
    private readonly context: DetectorContext,
    readonly type: TransportType,
  ) {}

  onTransport(errors: TransportErrors, t: number, duration: number): void {
    const detail: Detail = {};
    let total = 0;
    for (const counter of COUNTERS[this.type]) {
      detail[`count${counter[0].toUpperCase()}${counter.slice(1)}Errors`] = errors[counter];
      total += errors[counter];
    }
    if (this.type === 'transport.continuity') {
      // What the errors amount to: packets lost (by the counters' jumps), packets sent twice
      // (legal, not errors), and which PIDs: countContinuityErrorsPid0x0100 …
      detail.countMissingPackets = errors.missingPackets;
      detail.countDuplicatePackets = errors.duplicatePackets;
      for (const [pid, n] of Object.entries(errors.continuityByPid))
        detail[`countContinuityErrorsPid${pid}`] = n;
    }
    this.context.emit({ type: this.type, t, duration, active: total > 0, detail });
  }
}
