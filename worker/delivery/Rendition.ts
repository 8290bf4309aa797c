/** One rendition of a ladder as the delivery monitor follows it: its segments, faults, samples. */
import type { DeliveryType, RenditionRef } from '../../shared/events.js';
import type { AlarmTracker } from '../alarms/AlarmTracker.js';
import type { TransportDetector } from '../detectors/TransportDetector.js';
import type { Detail } from '../detectors/types.js';
import type { TransportErrors, TsAnalyzer } from '../transport/TsAnalyzer.js';
import type { KeyframeSample } from './keyframeProbe.js';
import type { SegmentInfo } from './segments.js';

/** Key-frame samples kept per rendition, seconds of source time. */
export const SAMPLE_HISTORY_SECONDS = 60;

/** Faults found since the last tick, by delivery type (the first of each wins). */
export type Faults = Partial<Record<DeliveryType, Detail>>;

export class Rendition {
  readonly tracker: AlarmTracker;
  segments = new Map<number, SegmentInfo>();
  byUri = new Map<string, SegmentInfo>();
  /** Media sequence numbers of the first and last segment listed (last < first: none). */
  first = 0;
  last = -1;
  targetDuration = 6;
  loaded = false;
  ended = false;
  lastChangeAt = Date.now();
  failures = 0;
  /** When its playlist last loaded (ms), and since when it has been failing to (null: it loads). */
  lastLoadAt: number | null = null;
  failingSince: number | null = null;
  lastFailureAt: number | null = null;
  faults: Faults = {};
  stale: Detail | null = null;
  missing: Detail | null = null;
  /** Its playlist (or the MPD) loads but is refused: a limit hit, or not parsable. */
  invalid: Detail | null = null;
  lastT: number | null = null;
  nextSample = -1;
  busy = false;
  /** Media sequence numbers already probed, and the first key frame time of each (anchors). */
  probed = new Map<number, number>();
  samples: KeyframeSample[] = [];
  judgedUpTo = Number.NEGATIVE_INFINITY;
  maps = new Map<string, Buffer>();
  timer: NodeJS.Timeout | null = null;
  /** DASH: the Period this representation was last listed in (another one starts a new timeline). */
  periodStart = 0;
  /** The analyser of its TS segments (TR 101 290, cues, captions), on their PCR clock; one run of consecutive segments. */
  ts: TsAnalyzer | null = null;
  /** The media sequence number that continues the analyser's run. */
  tsNext = -1;
  /** Transport errors found since the last tick. */
  tsErrors: TransportErrors | null = null;
  transport: TransportDetector[] = [];

  constructor(
    readonly ref: RenditionRef,
    /** ffmpeg reads this rendition (the decoded pictures' one, or the decoded sound's). */
    readonly decoded: boolean,
    tracker: (r: Rendition) => AlarmTracker,
  ) {
    this.tracker = tracker(this);
  }

  /** Sound only: polled and its segments checked, no key frames to look at. */
  get audio(): boolean {
    return this.ref.type === 'audio';
  }
}
