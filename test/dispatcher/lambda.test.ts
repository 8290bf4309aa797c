/** The Lambda adapter: API Gateway HTTP API v2 events to the same handler, owner = IAM principal. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedStore, startEmbeddedStore } from '../../local/embeddedStore.js';
import { Registry } from '../../shared/registry/Registry.js';

let store: EmbeddedStore;
let lambda: typeof import('../../dispatcher/lambda.js');

const ALICE = 'arn:aws:iam::111122223333:user/alice';
const BOB = 'arn:aws:sts::111122223333:assumed-role/ops/bob';

function event(method: string, path: string, principal: string | null, body?: string, base64 = false) {
  return {
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    body: body && base64 ? Buffer.from(body).toString('base64') : body,
    isBase64Encoded: base64,
    requestContext: {
      http: { method },
      ...(principal ? { authorizer: { iam: { userArn: principal } } } : {}),
    },
  };
}

beforeAll(async () => {
  store = await startEmbeddedStore();
  process.env.STREAMQC_DYNAMODB_ENDPOINT = store.endpoint;
  process.env.STREAMQC_TABLE_PREFIX = 'lambda';
  process.env.AWS_REGION = 'local';
  process.env.AWS_ACCESS_KEY_ID = 'local';
  process.env.AWS_SECRET_ACCESS_KEY = 'local';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const registry = new Registry({ endpoint: store.endpoint, region: 'local', tablePrefix: 'lambda' });
  await registry.ensureTables();
  registry.destroy();
  lambda = await import('../../dispatcher/lambda.js');
});
afterAll(async () => {
  await store.close();
});

describe('Lambda handler', () => {
  it("answers the console's routes for the owner a signed-in token's claim names, and serves its page", async () => {
    const created = await lambda.handler(
      event('POST', '/streams', ALICE, JSON.stringify({ url: 'https://93.184.216.34/console.m3u8' })),
    );
    const id = JSON.parse(created.body).id;
    const console = (claims: Record<string, string>) => ({
      ...event('GET', `/console/api/streams/${id}`, null),
      requestContext: { http: { method: 'GET' }, authorizer: { jwt: { claims } } },
    });
    const mine = await lambda.handler(console({ sub: 'u-1', 'custom:streamqc_owner': ALICE }));
    expect(mine.statusCode).toBe(200);
    expect(JSON.parse(mine.body).id).toBe(id);
    expect((await lambda.handler(console({ sub: 'u-2', 'custom:streamqc_owner': BOB }))).statusCode).toBe(
      404,
    );
    // A token without the claim names nobody.
    expect((await lambda.handler(console({ sub: 'u-3' }))).statusCode).toBe(401);
    const page = await lambda.handler(event('GET', '/console', null));
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('/console/app.js');
    expect(page.isBase64Encoded).toBeUndefined();
  });

  it('registers a stream for the signing IAM principal and hides it from another', async () => {
    const created = await lambda.handler(
      event('POST', '/streams', ALICE, JSON.stringify({ url: 'https://93.184.216.34/live.m3u8' }), true),
    );
    const id = JSON.parse(created.body).id;

    const mine = await lambda.handler(event('GET', `/streams/${id}`, ALICE));
    const theirs = await lambda.handler(event('GET', `/streams/${id}`, BOB));

    expect(created.statusCode).toBe(201);
    expect(mine.statusCode).toBe(200);
    expect(theirs.statusCode).toBe(404);
  });

  it('answers 401 without an IAM principal and 413 for an oversized body', async () => {
    const anonymous = await lambda.handler(event('GET', '/streams', null));
    const huge = await lambda.handler(event('POST', '/streams', ALICE, 'x'.repeat(100_000)));

    expect(anonymous.statusCode).toBe(401);
    expect(huge.statusCode).toBe(413);
    expect(JSON.parse(huge.body).error.code).toBe('payload_too_large');
  });

  it('answers 415 for a body that is not JSON, as the local server does, and stores nothing', async () => {
    const form = {
      ...event('POST', '/streams', ALICE, 'url=https%3A%2F%2F93.184.216.34%2Fx.m3u8'),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    };
    const before = JSON.parse((await lambda.handler(event('GET', '/streams', ALICE))).body).items.length;

    const refused = await lambda.handler(form);

    expect(refused.statusCode).toBe(415);
    expect(JSON.parse(refused.body).error.code).toBe('unsupported_media_type');
    const after = JSON.parse((await lambda.handler(event('GET', '/streams', ALICE))).body).items.length;
    expect(after).toBe(before);
  });

  it("makes a role the owner, whatever the session: a new session still sees the role's streams", async () => {
    const created = await lambda.handler(
      event('POST', '/streams', BOB, JSON.stringify({ url: 'https://93.184.216.34/ops.m3u8' })),
    );
    const id = JSON.parse(created.body).id;

    const otherSession = await lambda.handler(
      event('GET', `/streams/${id}`, 'arn:aws:sts::111122223333:assumed-role/ops/carol-session'),
    );
    const otherRole = await lambda.handler(
      event('GET', `/streams/${id}`, 'arn:aws:sts::111122223333:assumed-role/audit/bob'),
    );

    expect(created.statusCode).toBe(201);
    expect(otherSession.statusCode).toBe(200);
    expect(otherRole.statusCode).toBe(404);
    expect(lambda.ownerOf(BOB)).toBe('arn:aws:sts::111122223333:assumed-role/ops');
    expect(lambda.ownerOf(ALICE)).toBe(ALICE);
  });

  it('runs the scheduled fleet check: waiting units and the outbox backlog', async () => {
    const report = await lambda.handler({ source: 'aws.events', 'detail-type': 'Scheduled Event' });

    expect(report.waiting).toBeGreaterThanOrEqual(2); // the streams above, no worker here
    expect(report).toMatchObject({ outboxDepth: 0, deadLetters: 0 });
  });
});
