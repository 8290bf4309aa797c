/**
 * A webhook failing for a while, with the real outbox, registry (embedded store) and sinks:
 * console and NDJSON get each event exactly once and at once; SNS (the SDK against a local
 * endpoint speaking its protocol) gets each once; the webhook gets every event once after it
 * recovers. Real time, no clock tricks. The outage lasts 20 s (each event then fails four times:
 * 2, 4, 8 and 16 s apart) and the test about 40 s; `SINK_OUTAGE_SECONDS=60` makes it a minute
 * (about 100 s: a retry due just after the outage may wait twice as long as the one before).
 */
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SNSClient } from '@aws-sdk/client-sns';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedStore, startEmbeddedStore } from '../../local/embeddedStore.js';
import type { DefectEvent } from '../../shared/events.js';
import { Registry } from '../../shared/registry/Registry.js';
import { ConsolePublisher } from '../../worker/publishers/ConsolePublisher.js';
import { NdjsonFilePublisher, readNdjsonEvents } from '../../worker/publishers/NdjsonFilePublisher.js';
import { Outbox } from '../../worker/publishers/Outbox.js';
import { SnsPublisher } from '../../worker/publishers/SnsPublisher.js';
import { WebhookPublisher } from '../../worker/publishers/WebhookPublisher.js';
import { until } from '../helpers/stackClient.js';

const OUTAGE_MS = Number(process.env.SINK_OUTAGE_SECONDS ?? 20) * 1000;
const EVENTS = 12; // evenly through the outage

let store: EmbeddedStore;
let registry: Registry;
const servers: Server[] = [];

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => resolve(text));
  });
}

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  store = await startEmbeddedStore();
  registry = new Registry({ endpoint: store.endpoint, region: 'local', tablePrefix: 'outage' });
  await registry.ensureTables();
});

afterAll(async () => {
  for (const s of servers) s.close();
  registry.destroy();
  await store.close();
});

describe(`a webhook failing for ${OUTAGE_MS / 1000} s`, () => {
  it('holds back no other sink, duplicates nothing, and gets every event once it recovers', async () => {
    const startedAt = Date.now();
    const hooked: string[] = [];
    const webhookUrl = await listen(
      createServer(async (req, res) => {
        const text = await body(req);
        if (Date.now() - startedAt < OUTAGE_MS) {
          res.statusCode = 500;
          res.end('down');
          return;
        }
        hooked.push((JSON.parse(text) as DefectEvent).dedupKey);
        res.end();
      }),
    );
    const published: string[] = [];
    const snsEndpoint = await listen(
      createServer(async (req, res) => {
        const form = new URLSearchParams(await body(req));
        published.push((JSON.parse(form.get('Message')!) as DefectEvent).dedupKey);
        res.setHeader('content-type', 'text/xml');
        res.end(
          '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m</MessageId></PublishResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></PublishResponse>',
        );
      }),
    );
    const consoleLines: Array<{ line: string; at: number }> = [];
    const ndjson = join(mkdtempSync(join(tmpdir(), 'streamqc-outage-')), 'events.ndjson');
    const sns = new SNSClient({
      endpoint: snsEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    const outbox = new Outbox(
      registry,
      [
        new SnsPublisher(sns, 'arn:aws:sns:us-east-1:111122223333:defects'),
        new WebhookPublisher(webhookUrl, 'secret'),
        new NdjsonFilePublisher(ndjson),
        new ConsolePublisher((line) => consoleLines.push({ line, at: Date.now() })),
      ],
      pino({ level: 'silent' }),
    );
    outbox.start(1000);

    const submitted: Array<{ key: string; at: number }> = [];
    for (let i = 0; i < EVENTS; i++) {
      const key = `video.black:outage-${i}`;
      const event: DefectEvent = {
        type: 'video.black',
        state: 'raised',
        streamId: 'st_outage',
        start: i,
        end: null,
        severity: 'critical',
        dedupKey: key,
        detail: { meanLuma: 16 },
        wallStart: new Date().toISOString(),
      };
      submitted.push({ key, at: Date.now() });
      await outbox.submit(event);
      await new Promise((r) => setTimeout(r, OUTAGE_MS / EVENTS));
    }
    const keys = submitted.map((s) => s.key);
    await until('the webhook to get every event', 240, () =>
      new Set(hooked).size === EVENTS && keys.every((k) => hooked.includes(k)) ? true : undefined,
    );
    await until('the outbox to empty', 30, async () =>
      (await registry.outbox.due(100)).length === 0 ? true : undefined,
    );
    outbox.stop();

    const lines = readNdjsonEvents(ndjson).map((e) => e.dedupKey);
    expect(lines.sort()).toEqual([...keys].sort()); // each exactly once
    expect(published.sort()).toEqual([...keys].sort());
    expect(hooked.sort()).toEqual([...keys].sort());
    expect(consoleLines).toHaveLength(EVENTS);
    // On time: the console had each event within a second of its submission, during the outage.
    for (const s of submitted) {
      const shown = consoleLines.find((c) =>
        c.line.includes(`from ${Number(s.key.split('-').pop()).toFixed(2)} s`),
      );
      expect(shown!.at - s.at).toBeLessThan(1000);
    }
    expect(outbox.counters.get('webhook')!.failures).toBeGreaterThanOrEqual(EVENTS);
    expect(await registry.outbox.deadLetters()).toEqual([]);
  }, 400_000);
});
