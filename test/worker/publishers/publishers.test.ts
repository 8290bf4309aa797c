/**
 * Publishers at the wire level: SNS through the real AWS SDK against a local HTTP endpoint that
 * speaks the SNS query protocol (including throttling), the HMAC-signed webhook, and the outbox's
 * retry across a publisher outage.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SNSClient } from '@aws-sdk/client-sns';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedStore, startEmbeddedStore } from '../../../local/embeddedStore.js';
import type { DefectEvent } from '../../../shared/events.js';
import { ALL_SINKS } from '../../../shared/registry/outbox.js';
import { Registry } from '../../../shared/registry/Registry.js';
import { MAX_ATTEMPTS, Outbox } from '../../../worker/publishers/Outbox.js';
import type { Publisher } from '../../../worker/publishers/Publisher.js';
import { SnsPublisher } from '../../../worker/publishers/SnsPublisher.js';
import { WebhookPublisher, webhookSignature } from '../../../worker/publishers/WebhookPublisher.js';

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
  owner: 'team-news',
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
      owner: 'team-news',
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

  /** Makes every pending sink of an item due now, as if its backoff had passed. */
  async function makeDue(id: string): Promise<void> {
    const item = await registry.outbox.get(id);
    if (!item) return;
    for (const sink of Object.values(item.sinks)) if (sink.state === 'pending') sink.dueAt = 0;
    await registry.db.doc.send(
      new UpdateCommand({
        TableName: registry.db.tables.outbox,
        Key: { id },
        UpdateExpression: 'SET sinks = :s, dueAt = :z',
        ExpressionAttributeValues: { ':s': item.sinks, ':z': 0 },
      }),
    );
  }

  function sink(name: string, up = true) {
    const got: DefectEvent[] = [];
    const s = {
      up,
      got,
      publisher: {
        name,
        publish: async (e: DefectEvent) => {
          if (!s.up) throw new Error(`${name} down`);
          got.push(e);
        },
      } satisfies Publisher,
    };
    return s;
  }

  it('delivers to healthy sinks at once and retries only the failing one, which gets it once back up', async () => {
    const ok = sink('ok');
    const flaky = sink('flaky', false);
    const outbox = new Outbox(registry, [ok.publisher, flaky.publisher], pino({ level: 'silent' }));
    const e = { ...event, dedupKey: 'video.black:per-sink' };
    const id = `${e.dedupKey}#raised`;

    await outbox.submit(e);
    const afterFailure = await registry.outbox.due(10);
    await makeDue(id);
    await outbox.drain(); // still down: ok is not offered the event again
    flaky.up = true;
    await makeDue(id);
    await outbox.drain();

    expect(afterFailure).not.toContain(id); // kept, but backing off
    expect(ok.got).toEqual([e]);
    expect(flaky.got).toEqual([e]);
    expect(await registry.outbox.get(id)).toBeNull();
    expect(outbox.counters.get('flaky')).toEqual({ delivered: 1, failures: 2, deadLettered: 0 });
  });

  it('gives up on a sink after MAX_ATTEMPTS, keeps the event as a dead letter, and replays it', async () => {
    const ok = sink('ok');
    const broken = sink('broken', false);
    const outbox = new Outbox(registry, [ok.publisher, broken.publisher], pino({ level: 'silent' }));
    const e = { ...event, dedupKey: 'video.black:dead' };
    const id = `${e.dedupKey}#raised`;

    await outbox.submit(e);
    for (let i = 1; i < MAX_ATTEMPTS; i++) {
      await makeDue(id);
      await outbox.drain();
    }
    const dead = await registry.outbox.deadLetters();
    const due = await registry.outbox.due(100);
    broken.up = true;
    const replayed = await registry.outbox.replay(id);
    await outbox.drain();

    expect(dead.map((d) => d.id)).toEqual([id]);
    expect(dead[0].sinks.broken).toMatchObject({
      state: 'dead',
      attempts: MAX_ATTEMPTS,
      lastError: 'broken down',
    });
    expect(dead[0].sinks.ok.state).toBe('done');
    expect(due).not.toContain(id); // a dead letter is not retried on its own
    expect(outbox.counters.get('broken')?.deadLettered).toBe(1);
    expect(replayed).toBe(true);
    expect(broken.got).toEqual([e]);
    expect(ok.got).toEqual([e]); // the healthy sink is not sent it again
    expect(await registry.outbox.deadLetters()).toEqual([]);
    expect(await registry.outbox.get(id)).toBeNull();
  });

  it('gives an event the dispatcher queued for all sinks to every sink of the delivering worker', async () => {
    const a = sink('a');
    const b = sink('b');
    const outbox = new Outbox(registry, [a.publisher, b.publisher], pino({ level: 'silent' }));
    const e = { ...event, dedupKey: 'video.black:all-sinks', state: 'cleared' as const };

    await registry.outbox.enqueue(e, [ALL_SINKS]);
    await outbox.drain();

    expect(a.got).toEqual([e]);
    expect(b.got).toEqual([e]);
  });

  it('does not queue the same event twice', async () => {
    const other = { ...event, dedupKey: 'video.freeze:twice' };
    const seen: DefectEvent[] = [];
    const outbox = new Outbox(
      registry,
      [{ name: 'ok', publish: async (e) => void seen.push(e) }],
      pino({ level: 'silent' }),
    );

    await registry.outbox.enqueue(other, ['ok']);
    await registry.outbox.enqueue(other, ['ok']);
    await outbox.drain();

    expect(seen).toHaveLength(1);
  });
});
