/**
 * The retrying outbox between the alarm tracker and the sinks (publishers). Every event is first
 * stored in the registry's outbox table with a delivery state per sink, then offered to every
 * sink at once, in parallel: a sink that takes it is done with it and never gets it again from
 * this item; a sink that fails is retried alone, with exponential backoff, by whichever worker
 * finds the item due, and after MAX_ATTEMPTS it gives up and the item becomes a dead letter (kept,
 * counted in /metrics, replayable with `streamqc outbox replay`). A failing or slow sink never
 * holds back the others. Delivery is at least once per sink (a worker dying between a publish and
 * its record repeats that one publish); consumers drop repeats by dedupKey + state.
 */
import type { DefectEvent } from '../../shared/events.js';
import type { Logger } from '../../shared/logger.js';
import { ALL_SINKS, OUTBOX_BUCKETS, type OutboxItem } from '../../shared/registry/outbox.js';
import type { Registry } from '../../shared/registry/Registry.js';
import type { Publisher } from './Publisher.js';

/** How long one delivery round may hold an item (longer than any sink's own timeout). */
const LOCK_SECONDS = 60;
const POLL_MS = 2000;
const MAX_BACKOFF_SECONDS = 300;
/** Attempts per sink before it gives up on an event (2 s, 4 s, … 5 min: about 40 minutes in all). */
export const MAX_ATTEMPTS = 15;

export function retryDelaySeconds(attempts: number): number {
  return Math.min(MAX_BACKOFF_SECONDS, 2 ** Math.min(attempts, 9));
}

export interface SinkCounters {
  delivered: number;
  failures: number;
  deadLettered: number;
}

export class Outbox {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private bucket = Math.floor(Math.random() * OUTBOX_BUCKETS);
  private readonly byName: Map<string, Publisher>;
  /** Per sink: events taken, failed attempts, events given up on (this worker's share). */
  readonly counters = new Map<string, SinkCounters>();

  constructor(
    private readonly registry: Registry,
    publishers: Publisher[],
    private readonly logger: Logger,
  ) {
    this.byName = new Map(publishers.map((p) => [p.name, p]));
    for (const p of publishers) this.counters.set(p.name, { delivered: 0, failures: 0, deadLettered: 0 });
  }

  get delivered(): number {
    return [...this.counters.values()].reduce((n, c) => n + c.delivered, 0);
  }

  get failures(): number {
    return [...this.counters.values()].reduce((n, c) => n + c.failures, 0);
  }

  /** Stores the event durably for every sink, then tries to deliver it at once. */
  async submit(event: DefectEvent, id?: string): Promise<void> {
    const itemId = await this.registry.outbox.enqueue(event, [...this.byName.keys()], id);
    await this.deliver(itemId);
  }

  /** Starts the background loop that retries due items, one bucket of the index per look. */
  start(intervalMs = POLL_MS): void {
    this.timer = setInterval(() => void this.drain(this.nextBucket()), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private nextBucket(): number {
    this.bucket = (this.bucket + 1) % OUTBOX_BUCKETS;
    return this.bucket;
  }

  /** Delivers every due item of one bucket, or of all (at drain, and in tests), once. */
  async drain(bucket?: number): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (const id of await this.registry.outbox.due(50, bucket)) await this.deliver(id);
    } catch (e) {
      this.logger.warn({ err: (e as Error).message }, 'outbox drain failed');
    } finally {
      this.running = false;
    }
  }

  /** One delivery round: every sink still pending and due gets the event, all at once. */
  private async deliver(id: string): Promise<void> {
    const item = await this.registry.outbox.lock(id, LOCK_SECONDS);
    if (!item) return;
    const lock = item.dueAt;
    const now = Date.now();
    if (item.sinks[ALL_SINKS]) {
      // Queued by the dispatcher, which knows no sinks: every sink of this worker gets it.
      delete item.sinks[ALL_SINKS];
      for (const name of this.byName.keys()) item.sinks[name] ??= { state: 'pending', attempts: 0, dueAt: 0 };
    }
    const due = Object.entries(item.sinks).filter(([, s]) => s.state === 'pending' && s.dueAt <= now);
    await Promise.all(due.map(([name]) => this.offer(item, name)));
    if (!(await this.registry.outbox.settle(item, lock)))
      this.logger.warn({ streamId: item.event.streamId, id }, 'outbox item changed hands during delivery');
  }

  private async offer(item: OutboxItem, name: string): Promise<void> {
    const sink = item.sinks[name];
    const counters = this.counters.get(name);
    const publisher = this.byName.get(name);
    try {
      if (!publisher) throw new Error(`sink ${name} is not configured on this worker`);
      await publisher.publish(item.event);
      item.sinks[name] = { state: 'done', attempts: sink.attempts + 1, dueAt: 0 };
      if (counters) counters.delivered++;
    } catch (e) {
      const attempts = sink.attempts + 1;
      const lastError = (e as Error).message.slice(0, 200);
      const dead = attempts >= MAX_ATTEMPTS;
      const delay = retryDelaySeconds(attempts);
      item.sinks[name] = {
        state: dead ? 'dead' : 'pending',
        attempts,
        dueAt: dead ? 0 : Date.now() + delay * 1000,
        lastError,
      };
      if (counters) {
        counters.failures++;
        if (dead) counters.deadLettered++;
      }
      const log = {
        streamId: item.event.streamId,
        dedupKey: item.event.dedupKey,
        sink: name,
        attempts,
        err: lastError,
      };
      if (dead) this.logger.error(log, 'sink gave up on an event; kept as a dead letter');
      else this.logger.warn({ ...log, retryInSeconds: delay }, 'event delivery failed; will retry this sink');
    }
  }
}

/** Builds the outbox id of a periodic re-send of an alarm event (one per event per period). */
export function resendId(event: DefectEvent, period: number): string {
  return `${event.dedupKey}#${event.state}#resend#${period}`;
}

/**
 * Re-publishes the raise of every open alarm of these streams and the clear of every alarm closed
 * in the last two periods, once per period (the outbox id says which period): a consumer that
 * missed either catches up.
 */
export async function resendAlarms(
  registry: Registry,
  outbox: Outbox,
  streamIds: Iterable<string>,
  periodMs: number,
): Promise<void> {
  const now = Date.now();
  for (const streamId of streamIds) {
    for (const event of await registry.alarms.resendable(streamId, now - 2 * periodMs)) {
      await outbox.submit(event, resendId(event, Math.floor(now / periodMs)));
    }
  }
}
