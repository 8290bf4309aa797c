/**
 * The one way a stream's events leave its pipeline. Events of the decoded media (the alarm
 * tracker's) are first named with their rendition when the input is a ladder (kept in order while
 * one waits for its scope); then every event — decoded, delivery, transport, ad break — goes
 * through the inhibitor of a live stream (one incident per cause, alarms/Inhibitor.ts) to the
 * sink. Alarms raised before a restart are put back along the same path.
 */
import { type DefectEvent, type DefectType, isDeliveryType } from '../../shared/events.js';
import type { Logger } from '../../shared/logger.js';
import type { AlarmTracker } from '../alarms/AlarmTracker.js';
import { Inhibitor } from '../alarms/Inhibitor.js';
import type { StreamLossDetector } from '../detectors/StreamLossDetector.js';
import type { LadderInput } from './LadderInput.js';

export interface EventPathOptions {
  /** Where events end: the supervisor's sink. */
  send: (event: DefectEvent) => void;
  live: boolean;
  /** The types this stream runs (an inhibit rule whose cause is off holds nothing back). */
  detectors: readonly DefectType[];
  /** How long a symptom may wait for its cause to be raised (a little past the loss allowance). */
  causeWaitSeconds: () => number;
  /** The longest a type's alarm stays raised after its condition ends (its flap window). */
  clearDelaySeconds: (type: DefectType) => number;
  logger: Logger;
}

/** What restored alarms go back into. */
export interface RestoreTargets {
  tracker: AlarmTracker;
  ladder: LadderInput;
  loss: StreamLossDetector | null;
}

export class EventPath {
  /** Keeps events in order while a ladder's content event waits for its scope. */
  private chain: Promise<void> = Promise.resolve();
  private readonly inhibitor: Inhibitor | null;
  /** An event that needs no naming (delivery, transport, breaks): on through the inhibitor. */
  readonly emit: (event: DefectEvent) => void;

  constructor(private readonly options: EventPathOptions) {
    // Live streams: one incident per cause; a file's events go as they are.
    this.inhibitor = options.live
      ? new Inhibitor(options.send, options.detectors, options.causeWaitSeconds, options.clearDelaySeconds)
      : null;
    this.emit = this.inhibitor ? (e) => this.inhibitor?.push(e) : options.send;
  }

  /** An event of the decoded media: as it is, or (a ladder: HLS, DASH) named with its rendition. */
  decoded(event: DefectEvent, ladder: LadderInput): void {
    const monitor = ladder.ladder;
    if (!monitor) {
      this.emit(event);
      return;
    }
    this.chain = this.chain
      .then(() => monitor.describeDecoded(event))
      .then((described) => this.emit(described))
      .catch((e) => this.options.logger.error({ err: (e as Error).message }, 'could not describe an event'));
  }

  /** Ends inhibitions and waits whose time has come. */
  tick(nowMs: number): void {
    this.inhibitor?.tick(nowMs);
  }

  /** Resolves once every event handed on so far has reached the sink (held ladder raises included). */
  settled(): Promise<void> {
    return this.chain;
  }

  /**
   * Re-opens alarms raised before a restart: whole-stream alarms in the tracker now, rendition
   * alarms (delivery, key-frame probe, segment) once the ladder is read. A break open before the
   * restart cannot be followed to its end by this monitor: it is ended now.
   */
  restore(events: DefectEvent[], into: RestoreTargets): void {
    const ofRendition = (e: DefectEvent) =>
      isDeliveryType(e.type) || e.detail.seenBy === 'key-frame probe' || e.detail.seenBy === 'segment';
    for (const e of events.filter((x) => x.type === 'ad.break'))
      this.emit({
        ...e,
        state: 'cleared',
        end: e.start,
        detail: { ...e.detail, reason: 'the monitor restarted during the break' },
      });
    const alarms = events.filter((e) => e.type !== 'ad.break');
    for (const e of alarms) this.inhibitor?.restore(e);
    into.tracker.restore(
      alarms
        .filter((e) => !ofRendition(e))
        .map((e) => ({ type: e.type, start: e.start, dedupKey: e.dedupKey, wallStart: e.wallStart })),
    );
    into.ladder.restore(
      alarms.filter(ofRendition),
      alarms.filter((e) => !ofRendition(e) && e.detail.scope !== undefined),
    );
    if (this.options.live && alarms.some((e) => e.type === 'stream.loss')) into.loss?.lossOngoing(Date.now());
  }
}
