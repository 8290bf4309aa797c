/**
 * One unit's alarm raises and clears, stored and published in order: each is retried (0.5 s …
 * 30 s) until the registry takes it. A unit stopped meanwhile gives up: its next worker restores
 * the open alarms from the registry and detects the rest anew.
 */
import type { DefectEvent } from '../../shared/events.js';
import type { Logger } from '../../shared/logger.js';
import { type AlarmSinks, recordAlarm } from './recordAlarm.js';

const MAX_RETRY_SECONDS = 30;

export class AlarmChain {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly sinks: AlarmSinks,
    private readonly log: Logger,
    /** True once the unit is stopped (the chain gives up instead of retrying). */
    private readonly stopped: () => boolean,
  ) {}

  /** Queues an event behind those before it. */
  push(event: DefectEvent): void {
    this.chain = this.chain.then(() => this.record(event));
  }

  /** Resolves when every event queued so far is recorded (or given up). */
  settled(): Promise<void> {
    return this.chain;
  }

  private async record(event: DefectEvent): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await recordAlarm(this.sinks, event, this.log);
        return;
      } catch (e) {
        const wait = Math.min(MAX_RETRY_SECONDS, 0.5 * 2 ** attempt);
        const log = {
          err: (e as Error).message,
          type: event.type,
          state: event.state,
          dedupKey: event.dedupKey,
        };
        if (this.stopped()) {
          this.log.error(log, 'could not record alarm; unit stopped, its next worker takes over');
          return;
        }
        this.log.warn({ ...log, retryInSeconds: wait }, 'could not record alarm; retrying');
        const until = Date.now() + wait * 1000;
        while (!this.stopped() && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
}
