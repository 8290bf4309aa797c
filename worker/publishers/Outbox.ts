/**
 * The retrying outbox between the alarm tracker and the publishers. Every event is first stored
 * in the registry's outbox table, then delivered to every publisher; an item leaves the outbox
 * only when all publishers took it. A publisher outage or a worker crash loses nothing: any
 * worker's outbox loop picks up what is due, with exponential backoff. Delivery is at least once;
 * the event's dedupKey and state let consumers drop repeats.
 */
import type { DefectEvent } from '../../shared/events.js';
import type { Logger } from '../../shared/logger.js';
import { OUTBOX_BUCKETS } from '../../shared/registry/outbox.js';
import type { Registry } from '../../shared/registry/Registry.js';
import type { Publisher } from './Publisher.js';

const LOCK_SECONDS = 30;
/** How often the loop looks for due items (one bucket of the outbox index per look). */
const POLL_MS = 2000;
const MAX_BACKOFF_SECONDS = 300;

export class Outbox {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private bucket = Math.floor(Math.random() * OUTBOX_BUCKETS);
  delivered = 0;
  failures = 0;

  constructor(
    private readonly registry: Registry,
    private readonly publishers: Publisher[],
    private readonly logger: Logger,
  ) {}

  /** Stores the event durably, then tries to deliver it at once. */
  async submit(event: DefectEvent, id?: string): Promise<void> {
    const itemId = await this.registry.outbox.enqueue(event, id);
    await this.deliver(itemId);
  }

  /** Starts the background loop that retries due items. */
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

  private async deliver(id: string): Promise<void> {
    const item = await this.registry.outbox.lock(id, LOCK_SECONDS);
    if (!item) return;
    const { event } = item;
    try {
      for (const publisher of this.publishers) await publisher.publish(event);
      await this.registry.outbox.complete(id);
      this.delivered++;
    } catch (e) {
      this.failures++;
      const attempts = item.attempts + 1;
      const delay = Math.min(MAX_BACKOFF_SECONDS, 2 ** Math.min(attempts, 9));
      this.logger.warn(
        {
          streamId: event.streamId,
          dedupKey: event.dedupKey,
          attempts,
          retryInSeconds: delay,
          err: (e as Error).message,
        },
        'event delivery failed; will retry',
      );
      await this.registry.outbox.retry(id, attempts, delay);
    }
  }
}

/** Builds the outbox id of a periodic re-send of an open alarm (one per alarm per period). */
export function resendId(event: DefectEvent, period: number): string {
  return `${event.dedupKey}#raised#resend#${period}`;
}
