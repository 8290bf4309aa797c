/**
 * The alarm tracker: turns each detector's stream of observations into incidents. A condition
 * must hold for its hold-off before it is raised; a lapse shorter than `bridge` does not break it;
 * once raised it clears only after being absent for `clearAfter`. Every incident is raised once
 * and cleared once, under one dedup key.
 */
import { DEFAULT_SEVERITY, type DefectEvent, type DefectType } from '../../shared/events.js';
import type { Thresholds } from '../../shared/thresholds.js';
import type { Observation } from '../detectors/types.js';
import { DetailAccumulator } from './DetailAccumulator.js';
import { dedupKey } from './dedupKey.js';
import { type AlarmTiming, alarmTiming } from './hysteresis.js';

export interface AlarmTrackerOptions {
  streamId: string;
  thresholds: Thresholds;
  /** Receives every raised and cleared event, in order. */
  onEvent: (event: DefectEvent) => void;
  /** Maps media time to wall clock for live inputs; absent for files. */
  wallClock?: (mediaTime: number) => Date;
  /** What the alarms are about when not the whole stream (a rendition's URI): part of the dedup key. */
  subject?: string;
}

/** An alarm that is raised right now, as the tracker holds it (for restore after a restart). */
export interface OpenAlarm {
  type: DefectType;
  start: number;
  dedupKey: string;
  wallStart?: string;
}

class TypeAlarm {
  private state: 'idle' | 'pending' | 'raised' = 'idle';
  private start = 0;
  private activeEnd = 0;
  private inactiveSince: number | null = null;
  private detail = new DetailAccumulator();
  private key = '';
  private wallStart: string | undefined;
  /** Media time the last incident of this type ended; null before any. */
  private lastEnd: number | null = null;
  /** Times the condition came back within the raised incident (1: it never went away). */
  private episodes = 0;
  private flapping = false;
  /** Where a raised condition came back after a lapse; it counts once it holds for the hold-off. */
  private returnStart: number | null = null;

  constructor(
    readonly type: DefectType,
    private readonly timing: AlarmTiming,
    private readonly options: AlarmTrackerOptions,
  ) {}

  get open(): OpenAlarm | null {
    return this.state === 'raised'
      ? { type: this.type, start: this.start, dedupKey: this.key, wallStart: this.wallStart }
      : null;
  }

  /** Re-opens an alarm raised before a restart, so it is not raised a second time. */
  restore(alarm: OpenAlarm): void {
    this.state = 'raised';
    this.start = alarm.start;
    this.activeEnd = alarm.start;
    this.key = alarm.dedupKey;
    this.wallStart = alarm.wallStart;
    this.inactiveSince = null;
  }

  observe(o: Observation): void {
    const end = o.t + o.duration;
    if (o.active) {
      if (this.state === 'idle') this.begin(o.t);
      if (
        this.state === 'raised' &&
        this.inactiveSince !== null &&
        o.t - this.inactiveSince > this.timing.bridge
      ) {
        // Back after a real lapse: one more episode once it holds as long as a new incident would.
        this.returnStart ??= o.t;
        if (end - this.returnStart < this.timing.holdOff) return;
        this.episodes++;
        this.flapping = true;
      }
      this.returnStart = null;
      this.inactiveSince = null;
      this.activeEnd = Math.max(this.activeEnd, end);
      this.detail.add(o.detail);
      if (this.state === 'pending' && this.activeEnd - this.start >= this.timing.holdOff) this.raise();
      return;
    }
    if (this.returnStart !== null && o.t - this.returnStart > this.timing.bridge) this.returnStart = null;
    if (this.state === 'idle') return;
    // Detectors with long analysis windows date an ending back (o.t before the last active end).
    if (this.inactiveSince === null) this.inactiveSince = o.t;
    const lapse = end - this.inactiveSince;
    if (this.state === 'pending' && lapse > this.timing.bridge) this.state = 'idle';
    else if (
      this.state === 'raised' &&
      lapse >= (this.flapping ? this.timing.flapWindow : this.timing.clearAfter)
    )
      this.clear(this.inactiveSince);
  }

  /** The input ended: a condition still holding closes where the media ends. */
  finish(mediaEnd: number): void {
    if (this.state === 'pending' && this.activeEnd - this.start >= this.timing.holdOff) this.raise();
    if (this.state === 'raised') this.clear(this.inactiveSince ?? Math.min(this.activeEnd, mediaEnd));
  }

  /** Clears a raised alarm now (stream deleted or stopped); end is the media time it stopped. */
  forceClear(mediaTime: number): void {
    if (this.state === 'raised') this.clear(this.inactiveSince ?? mediaTime);
    this.state = 'idle';
  }

  private begin(t: number): void {
    this.state = 'pending';
    this.start = t;
    this.activeEnd = t;
    this.detail = new DetailAccumulator();
  }

  private raise(): void {
    this.state = 'raised';
    this.episodes = 1;
    this.flapping = this.lastEnd !== null && this.start - this.lastEnd < this.timing.flapWindow;
    const wall = this.options.wallClock?.(this.start);
    this.wallStart = wall?.toISOString();
    const anchor = wall ? wall.getTime() : this.start * 1000;
    this.key = dedupKey(this.options.streamId, this.type, anchor, this.options.subject);
    this.options.onEvent(this.event('raised', null));
  }

  private clear(end: number): void {
    this.state = 'idle';
    this.lastEnd = Math.max(end, this.start);
    this.options.onEvent(this.event('cleared', this.lastEnd));
    this.flapping = false;
  }

  private event(state: 'raised' | 'cleared', end: number | null): DefectEvent {
    const event: DefectEvent = {
      type: this.type,
      state,
      streamId: this.options.streamId,
      start: round(Math.max(0, this.start)),
      end: end === null ? null : round(Math.max(0, end)),
      severity: DEFAULT_SEVERITY[this.type],
      dedupKey: this.key,
      detail: this.flapping
        ? { ...this.detail.snapshot(), flapping: true, flapCount: this.episodes }
        : this.detail.snapshot(),
    };
    if (this.wallStart) event.wallStart = this.wallStart;
    if (end !== null && this.options.wallClock) event.wallEnd = this.options.wallClock(end).toISOString();
    return event;
  }
}

function round(t: number): number {
  return Math.round(t * 1000) / 1000;
}

/** Tracks the alarms of one stream, one state machine per defect type. */
export class AlarmTracker {
  private readonly alarms = new Map<DefectType, TypeAlarm>();

  constructor(private readonly options: AlarmTrackerOptions) {}

  observe(observation: Observation): void {
    this.alarm(observation.type).observe(observation);
  }

  /** Ends the input: conditions still holding become incidents ending at mediaEnd. */
  finish(mediaEnd: number): void {
    for (const alarm of this.alarms.values()) alarm.finish(mediaEnd);
  }

  /** Clears every raised alarm (monitoring stopped). */
  clearAll(mediaTime: number): void {
    for (const alarm of this.alarms.values()) alarm.forceClear(mediaTime);
  }

  /** Alarms raised and not yet cleared. */
  openAlarms(): OpenAlarm[] {
    return [...this.alarms.values()].flatMap((a) => (a.open ? [a.open] : []));
  }

  /** Restores alarms that were open before a restart, so they are cleared, never raised again. */
  restore(alarms: OpenAlarm[]): void {
    for (const alarm of alarms) this.alarm(alarm.type).restore(alarm);
  }

  private alarm(type: DefectType): TypeAlarm {
    let alarm = this.alarms.get(type);
    if (!alarm) {
      alarm = new TypeAlarm(type, alarmTiming(type, this.options.thresholds), this.options);
      this.alarms.set(type, alarm);
    }
    return alarm;
  }
}
