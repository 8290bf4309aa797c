/**
 * Publishers at the wire level: SNS through the real AWS SDK against a local HTTP endpoint that
 * speaks the SNS query protocol (including throttling), the HMAC-signed webhook, and the outbox's
 * retry across a publisher outage.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SNSClient } from '@aws-sdk/client-sns';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedStore, startEmbeddedStore } from '../../local/embeddedStore.js';
import type { DefectEvent } from '../../shared/events.js';
import { Registry } from '../../shared/registry/Registry.js';
import { Outbox } from '../../worker/publishers/Outbox.js';
import type { Publisher } from '../../worker/publishers/Publisher.js';
import { SnsPublisher } from '../../worker/publishers/SnsPublisher.js';
import { WebhookPublisher, webhookSignature } from '../../worker/publishers/WebhookPublisher.js';

const event: DefectEvent = {
  type: 'video.freeze',
  state: 'raised',
  streamId: 'st_abcdefghijklmnopqrst',
  start: 61.2,
  end: null,
  wallStart: '2026-11-21T10:00:00.000Z',
  severity: 'critical',
  dedupKey: 'video.freeze:0123456789abcdef0123',
  detail: { maxBlockChange: 0.4 },
};

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    req.on('data', (c) => {
      text += c;
    });
    req.on('end', () => resolve(text));
  });
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('SnsPublisher over the SNS wire protocol', () => {
  it('publishes the event as the body with filterable attributes, retrying a throttled call', async () => {
    const calls: URLSearchParams[] = [];
    const server = createServer(async (req, res) => {
      const form = new URLSearchParams(await readBody(req));
      calls.push(form);
      res.setHeader('content-type', 'text/xml');
      if (calls.length === 1) {
        res.statusCode = 400;
        res.end(
          '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r1</RequestId></ErrorResponse>',
        );
        return;
      }
      res.end(
        '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m-1</MessageId></PublishResult><ResponseMetadata><RequestId>r2</RequestId></ResponseMetadata></PublishResponse>',
      );
    });
    const endpoint = await listen(server);
    const client = new SNSClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      maxAttempts: 3,
    });
    const publisher = new SnsPublisher(client, 'arn:aws:sns:us-east-1:111122223333:streamqc-defects');

    await publisher.publish(event);

    server.close();
    expect(calls).toHaveLength(2);
    const form = calls[1];
    expect(form.get('Action')).toBe('Publish');
    expect(form.get('TopicArn')).toBe('arn:aws:sns:us-east-1:111122223333:streamqc-defects');
    expect(JSON.parse(form.get('Message')!)).toEqual(event);
    expect(form.get('Subject')!.length).toBeLessThan(100);
    const attributes: Record<string, string> = {};
    for (let i = 1; form.get(`MessageAttributes.entry.${i}.Name`); i++) {
      attributes[form.get(`MessageAttributes.entry.${i}.Name`)!] = form.get(
        `MessageAttributes.entry.${i}.Value.StringValue`,
      )!;
      expect(form.get(`MessageAttributes.entry.${i}.Value.DataType`)).toBe('String');
    }
    expect(attributes).toEqual({
      type: 'video.freeze',
      severity: 'critical',
      streamId: event.streamId,
      state: 'raised',
    });
  });

  it('rejects when SNS keeps refusing, so the outbox keeps the event', async () => {
    const server = createServer((_req, res) => {
      res.statusCode = 403;
      res.setHeader('content-type', 'text/xml');
      res.end(
        '<ErrorResponse><Error><Type>Sender</Type><Code>AuthorizationError</Code><Message>no</Message></Error><RequestId>r</RequestId></ErrorResponse>',
      );
    });
    const endpoint = await listen(server);
    const client = new SNSClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });

    await expect(new SnsPublisher(client, 'arn:aws:sns:us-east-1:1:t').publish(event)).rejects.toThrow();
    server.close();
  });
});

describe('WebhookPublisher', () => {
  it('signs the body with HMAC-SHA256 over timestamp and body', async () => {
    let received: { headers: IncomingMessage['headers']; body: string } | null = null;
    const server = createServer(async (req, res) => {
      received = { headers: req.headers, body: await readBody(req) };
      res.end();
    });
    const url = await listen(server);

    await new WebhookPublisher(url, 'shh').publish(event);

    server.close();
    const { headers, body } = received!;
    expect(JSON.parse(body)).toEqual(event);
    expect(headers['x-streamqc-signature']).toBe(
      webhookSignature('shh', String(headers['x-streamqc-timestamp']), body),
    );
    expect(headers['x-streamqc-signature']).not.toBe(
      webhookSignature('other', String(headers['x-streamqc-timestamp']), body),
    );
  });
});

describe('Outbox', () => {
  let store: EmbeddedStore;
  let registry: Registry;
  beforeAll(async () => {
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
    store = await startEmbeddedStore();
    registry = new Registry({ endpoint: store.endpoint, region: 'local', tablePrefix: 'outbox' });
    await registry.ensureTables();
  });
  afterAll(async () => {
    registry.destroy();
    await store.close();
  });

  it('keeps an event through a publisher outage and delivers it once the publisher is back', async () => {
    const delivered: DefectEvent[] = [];
    let down = true;
    const flaky: Publisher = {
      name: 'flaky',
      publish: async (e) => {
        if (down) throw new Error('publisher down');
        delivered.push(e);
      },
    };
    const outbox = new Outbox(registry, [flaky], pino({ level: 'silent' }));

    const id = `${event.dedupKey}#raised`;

    await outbox.submit(event);
    const afterFailure = await registry.outbox.due(10);
    await outbox.drain();
    down = false;
    await registry.outbox.retry(id, 1, 0); // as if the backoff delay had passed
    const due = await registry.outbox.due(10);
    await outbox.drain();

    expect(afterFailure).toEqual([]); // kept, but backing off
    expect(due).toEqual([id]);
    expect(delivered).toEqual([event]);
    expect(await registry.outbox.due(10)).toEqual([]);
  });

  it('does not queue the same event twice', async () => {
    const other = { ...event, dedupKey: 'video.freeze:twice' };
    const seen: DefectEvent[] = [];
    const outbox = new Outbox(
      registry,
      [{ name: 'ok', publish: async (e) => void seen.push(e) }],
      pino({ level: 'silent' }),
    );

    await registry.outbox.enqueue(other);
    await registry.outbox.enqueue(other);
    await outbox.drain();

    expect(seen).toHaveLength(1);
  });
});
