/**
 * POSTs each event as JSON to a URL, signed with HMAC-SHA256 over `<timestamp>.<body>` so the
 * receiver can check origin and freshness: headers `x-streamqc-timestamp` and
 * `x-streamqc-signature: sha256=<hex>`.
 */
import { createHmac } from 'node:crypto';
import type { DefectEvent } from '../../shared/events.js';
import type { Publisher } from './Publisher.js';

/** The signature a receiver should compute to verify a webhook call. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export class WebhookPublisher implements Publisher {
  readonly name = 'webhook';

  constructor(
    private readonly url: string,
    private readonly secret: string,
    private readonly timeoutMs = 5000,
  ) {}

  async publish(event: DefectEvent): Promise<void> {
    const body = JSON.stringify(event);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const response = await fetch(this.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-streamqc-timestamp': timestamp,
        'x-streamqc-signature': webhookSignature(this.secret, timestamp, body),
        'x-streamqc-dedup-key': `${event.dedupKey}:${event.state}`,
      },
      body,
      redirect: 'error',
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!response.ok) throw new Error(`webhook answered ${response.status}`);
  }
}
