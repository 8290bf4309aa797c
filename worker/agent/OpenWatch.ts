/**
 * A unit's open watchdog. Each open (from the address check to the first media) names the stage it
 * is in; one that runs past its deadline — whatever it is stuck on — raises `stream.unmonitored`
 * naming the stage, once per episode, and the first media after clears it. The agent hands a unit
 * stuck for twice the deadline back to the fleet (HeldUnits.releaseStuck).
 */
import type { DefectEvent } from '../../shared/events.js';
import type { Logger } from '../../shared/logger.js';
import { redactDeep } from '../../shared/redact.js';
import type { StreamRecord } from '../../shared/streamSpec.js';
import { unmonitoredCleared, unmonitoredEvent } from '../alarms/recordAlarm.js';

export class OpenWatch {
  /** What the current open is doing. */
  stage = 'starting';
  /** Set while the current open has run past its deadline: where it is stuck, for how long. */
  stuck: { stage: string; seconds: number } | null = null;
  /** The open `stream.unmonitored` alarm (raised by a watchdog here or on an earlier worker). */
  unmonitored: DefectEvent | null = null;
  private startedAt = Date.now();

  constructor(
    private readonly stream: StreamRecord,
    private readonly deadlineSeconds: number,
    private readonly workerId: string,
    private readonly log: Logger,
    private readonly raise: (event: DefectEvent) => void,
  ) {}

  /** An open begins now, at its first stage. */
  begin(stage: string): void {
    this.startedAt = Date.now();
    this.stuck = null;
    this.stage = stage;
  }

  /**
   * Called every second while the unit is `opening`: past the deadline, returns why the unit is
   * stuck the first time (after raising `stream.unmonitored` unless one is open), else null.
   */
  check(mediaTime: number): string | null {
    const seconds = Math.round((Date.now() - this.startedAt) / 1000);
    if (seconds <= this.deadlineSeconds) return null;
    const firstTime = this.stuck === null;
    this.stuck = { stage: this.stage, seconds };
    if (!firstTime) return null;
    const reason = `stuck ${this.stage} for ${seconds} s on worker ${this.workerId}`;
    this.log.error({ stage: this.stage, seconds }, 'unit stuck opening; raising stream.unmonitored');
    if (!this.unmonitored) {
      const raised = redactDeep(
        unmonitoredEvent(this.stream, reason, { state: 'stuck', stage: this.stage }, mediaTime),
      );
      this.unmonitored = raised;
      this.raise(raised);
    }
    return reason;
  }

  /** The stuck open was past the decoder's start: restarting the decoder starts the open again. */
  get decoderStuck(): boolean {
    return this.stage.startsWith('opening the source');
  }

  /** First media after an open: a `stream.unmonitored` still open for this stream is cleared. */
  monitoring(mediaTime: number): void {
    this.stuck = null;
    this.stage = 'running';
    const raised = this.unmonitored;
    if (!raised || raised.detail.state === 'quarantined') return;
    this.unmonitored = null;
    this.raise(unmonitoredCleared(raised, mediaTime));
  }
}
