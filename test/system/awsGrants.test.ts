/**
 * Every AWS call the code makes is granted by the synthesized stack. The embedded store ignores
 * IAM, so a missing grant passes every other test and fails every stream on AWS. Here a whole
 * lifecycle runs on the local stack (register, idempotent replay, list, read, a live stream
 * raising and clearing an alarm to SNS over its wire protocol, a worker killed and its unit taken
 * over, delete, the fleet check reading ECS, drain) while every process records each AWS request
 * it sends (STREAMQC_AWS_CALL_LOG): worker processes and their lease threads as the ECS task
 * role, the API and fleet check as the dispatcher Lambda's role. Each recorded call is then
 * checked against that role's policies in the template; and each grant the run needed is taken
 * out in turn, to show that the check would then fail.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ECSClient } from '@aws-sdk/client-ecs';
import { App } from 'aws-cdk-lib';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetCheck } from '../../dispatcher/fleetCheck.js';
import { ecsTaskCounts } from '../../dispatcher/launcher.js';
import { stackParams } from '../../infra/config.js';
import { StreamqcStack } from '../../infra/StreamqcStack.js';
import { type LocalStack, startLocalStack } from '../../local/localStack.js';
import { type AwsCall, recordAwsCalls } from '../../shared/awsCallLog.js';
import { TABLE_NAMES } from '../../shared/registry/tables.js';
import { makeClip } from '../helpers/clips.js';
import { denied, type NameMap, needsOf, withoutGrant } from '../helpers/iamPolicy.js';
import { freeUdpPort, UdpSender } from '../helpers/liveOrigin.js';
import { ROOT } from '../helpers/runCli.js';
import { type SecretsServer, startSecretsServer } from '../helpers/secretsServer.js';
import { callApi, killItsWorker, until } from '../helpers/stackClient.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const dir = mkdtempSync(join(tmpdir(), 'streamqc-grants-'));
const callLog = join(dir, 'aws-calls.ndjson');
const TOPIC = 'arn:aws:sns:us-east-1:111122223333:defects';
const servers: Server[] = [];
const published: string[] = [];
const TOKEN = 'grants-token-5f1c';
let secrets: SecretsServer;
/** An origin that answers nothing useful: what matters is the URL the worker asked for. */
const originRequests: string[] = [];
const origin = createServer((req, res) => {
  originRequests.push(req.url ?? '');
  res.writeHead(404).end();
});
let stack: LocalStack;
let sender: UdpSender;

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** SNS's query protocol: Publish answered as SNS does. */
const snsServer = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    const form = new URLSearchParams(body);
    published.push(`${form.get('Action')} ${form.get('TopicArn')}`);
    res.setHeader('content-type', 'text/xml');
    res.end(
      '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m</MessageId></PublishResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></PublishResponse>',
    );
  });
});

/** S3's REST protocol, path style: objects put, then asked for (HEAD before a link is signed, GET for a loudness log). */
const BUCKET = 'streamqc-media-grants';
const objects = new Map<string, Buffer>();
const s3Server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const key = decodeURIComponent((req.url ?? '').split('?')[0]);
    if (req.method === 'PUT') {
      objects.set(key, Buffer.concat(chunks));
      res.writeHead(200, { etag: '"e"' }).end();
    } else if (objects.has(key)) {
      const body = objects.get(key) ?? Buffer.alloc(0);
      res.writeHead(200, { 'content-length': body.length });
      res.end(req.method === 'GET' ? body : undefined);
    } else res.writeHead(404).end();
  });
});

/** ECS's JSON protocol: DescribeServices of the worker service. */
const ecsServer = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.setHeader('content-type', 'application/x-amz-json-1.1');
    res.end(JSON.stringify({ services: [{ serviceName: 'workers', desiredCount: 2, runningCount: 2 }] }));
  });
});

const api = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  Object.keys(headers).length
    ? fetch(`${stack.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, body: await r.json() }))
    : callApi(stack.url, stack.apiKey!, method, path, body);

beforeAll(async () => {
  const clip = join(dir, 'source.ts');
  // A 12 s loop whose picture is black from 3 to 6 s.
  makeClip(clip, 12, ",drawbox=c=black:t=fill:enable='between(t,3,6)'");
  sender = new UdpSender(clip, await freeUdpPort());
  const snsEndpoint = await listen(snsServer);
  secrets = await startSecretsServer({
    'streamqc/grants': { value: TOKEN, tags: { 'streamqc:owner': 'local' } },
  });
  process.env.STREAMQC_AWS_CALL_LOG = callLog;
  // Pictures in "S3" for the workers and the API, as on AWS.
  process.env.STREAMQC_MEDIA_BUCKET = BUCKET;
  process.env.STREAMQC_S3_ENDPOINT = await listen(s3Server);
  // The API (this process) signs its S3 requests and links as the dispatcher would.
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  });
  stack = await startLocalStack({
    dataDir: join(dir, 'stack'),
    port: 0,
    workers: 2,
    logger: pino({ level: 'silent' }),
    workerEnv: {
      STREAMQC_LEASE_SECONDS: '3',
      STREAMQC_HEARTBEAT_SECONDS: '0.5',
      STREAMQC_RESEND_SECONDS: '4',
      STREAMQC_CONSOLE: '0',
      STREAMQC_SNS_TOPIC_ARN: TOPIC,
      STREAMQC_SNS_ENDPOINT: snsEndpoint,
      STREAMQC_SECRETS_ENDPOINT: secrets.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    },
  });
  sender.start();
}, 120_000);

afterAll(async () => {
  sender?.stop();
  await stack?.stop();
  for (const s of servers) s.close();
  await secrets?.close();
  delete process.env.STREAMQC_AWS_CALL_LOG;
  delete process.env.STREAMQC_MEDIA_BUCKET;
  delete process.env.STREAMQC_S3_ENDPOINT;
  for (const name of ['AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) delete process.env[name];
});

/** Runs the lifecycle; resolves with the calls every process recorded. */
async function lifecycle(): Promise<AwsCall[]> {
  const spec = { url: sender.url, name: 'grants', loudness: { standard: 'r128' } };
  const first = await api('POST', '/streams', spec, { 'idempotency-key': 'grants-1' });
  const replay = await api('POST', '/streams', spec, { 'idempotency-key': 'grants-1' });
  expect(first.status).toBe(201);
  expect(replay.body.id).toBe(first.body.id);
  const id = first.body.id as string;
  expect((await api('GET', '/streams')).body.items.length).toBe(1);

  // A stream whose URL references a secret: the worker reads it from Secrets Manager.
  const originUrl = await listen(origin);
  const secretStream = await api('POST', '/streams', {
    url: `${originUrl}/live.m3u8?token={{secret:streamqc/grants}}`,
    name: 'secret',
  });
  expect(secretStream.status).toBe(201);
  await until('the origin asked with the secret', 40, () =>
    originRequests.some((u) => u.includes(TOKEN)) ? true : undefined,
  );
  const shown = JSON.stringify((await api('GET', `/streams/${secretStream.body.id}`)).body);
  expect(shown).not.toContain(TOKEN);
  expect((await api('DELETE', `/streams/${secretStream.body.id}`)).status).toBe(200);

  // The alarm is raised, stored and published to SNS by a worker.
  await until('video.black raised and cleared', 60, async () => {
    const defects = (await api('GET', `/streams/${id}/defects`)).body.items as Array<{ state: string }>;
    return defects.some((d) => d.state === 'cleared') ? true : undefined;
  });
  await until('a publish to SNS', 30, () => (published.length ? true : undefined));
  // Its evidence went to the bucket; the API answers with a presigned link to it.
  const raised = (
    (await api('GET', `/streams/${id}/defects`)).body.items as Array<{
      state: string;
      detail: Record<string, string>;
    }>
  ).find((d) => d.state === 'raised');
  const evidencePath = raised?.detail.evidence ?? '';
  expect(evidencePath, JSON.stringify(raised)).toMatch(/^\/streams\/st_\w+\/evidence\/ev_[0-9a-f]{20}\.jpg$/);
  await until('the evidence stored', 20, () => (objects.has(`/${BUCKET}${evidencePath}`) ? true : undefined));
  const link = await fetch(`${stack.url}${evidencePath}`, {
    headers: { authorization: `Bearer ${stack.apiKey}` },
    redirect: 'manual',
  });
  expect(link.status).toBe(302);
  expect(link.headers.get('location')).toContain('X-Amz-Signature=');
  // Its loudness log went to the bucket too; the API reads it back (s3:GetObject).
  await until('a loudness log', 40, async () => {
    const log = await api('GET', `/streams/${id}/loudness`);
    return log.status === 200 && log.body.series.length >= 10 ? true : undefined;
  });

  // Its worker is killed: the other one takes the unit over (lease thread, ring, takeover).
  await killItsWorker(stack, id, 40);
  // Open alarms re-sent (STREAMQC_RESEND_SECONDS) while it runs there.
  await new Promise((r) => setTimeout(r, 6000));

  expect((await api('DELETE', `/streams/${id}`)).status).toBe(200);
  // The fleet check as the Lambda runs it: the registry, and the ECS service's task counts.
  const ecs = new ECSClient({
    endpoint: await listen(ecsServer),
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  recordAwsCalls(ecs, 'ecs');
  await fleetCheck({
    registry: stack.registry,
    launcher: stack.launcher,
    logger: pino({ level: 'silent' }),
    budget: 10,
    minWorkers: 1,
    maxWorkers: 2,
    taskCounts: ecsTaskCounts(ecs, 'streamqc-cluster', 'streamqc-workers'),
  });
  // Drain: units released, members leave the fleet.
  await stack.launcher.stopAll();
  return readFileSync(callLog, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as AwsCall);
}

/** The synthesized template, and how the run's physical names map to its logical ids. */
function synthesize() {
  const app = new App({ context: { alertEmail: 'oncall@example.com' } });
  const cdk = new StreamqcStack(app, 'Streamqc', { params: stackParams(app.node), repoRoot: ROOT });
  const logical = (c: { node: { defaultChild?: unknown } }) =>
    cdk.getLogicalId(c.node.defaultChild as Parameters<typeof cdk.getLogicalId>[0]);
  const names: NameMap = {
    tables: Object.fromEntries(TABLE_NAMES.map((t) => [`streamqc-${t}`, logical(cdk.tables[t])])),
    topics: { [TOPIC]: logical(cdk.topic) },
    services: { 'service/streamqc-cluster/streamqc-workers': logical(cdk.service) },
    buckets: { [BUCKET]: logical(cdk.mediaBucket) },
    roles: {
      worker: logical(cdk.service.taskDefinition.taskRole),
      dispatcher: logical(cdk.dispatcher.role!),
    },
  };
  return { template: app.synth().getStackByName('Streamqc').template, names };
}

/** Table set-up the local stack does for itself; on AWS the stack owns the tables. */
const LOCAL_ONLY = new Set(['dynamodb:CreateTable', 'dynamodb:DescribeTable', 'dynamodb:UpdateTimeToLive']);

describe('AWS permissions', () => {
  it('grant every call the worker and the dispatcher make, and the check fails without any one grant', async () => {
    const calls = (await lifecycle()).filter((c) => !LOCAL_ONLY.has(c.action));
    const { template, names } = synthesize();

    const needs = needsOf(template, calls, names);
    const actions = new Set(
      needs.map((n) => `${n.role === names.roles.worker ? 'worker' : 'dispatcher'} ${n.action}`),
    );
    // The run went through the paths that matter: leases, health, alarms, outbox, SNS, ECS.
    for (const path of [
      'worker dynamodb:UpdateItem',
      'worker dynamodb:BatchGetItem',
      'worker dynamodb:Query',
      'worker sns:Publish',
      'worker secretsmanager:GetSecretValue',
      'worker secretsmanager:DescribeSecret',
      'worker s3:PutObject',
      'dispatcher s3:GetObject',
      'dispatcher dynamodb:BatchWriteItem',
      'dispatcher ecs:DescribeServices',
    ])
      expect(actions).toContain(path);
    expect(calls.filter((c) => c.role === 'unknown')).toEqual([]);
    expect(denied(template, needs)).toEqual([]);

    for (const need of needs) expect(denied(withoutGrant(template, need), [need])).toEqual([need]);
  });
});
