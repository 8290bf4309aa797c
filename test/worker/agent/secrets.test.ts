/**
 * Secret references in stream URLs: checked for form and place at the API, resolved by the worker
 * from Secrets Manager (the real SDK over its JSON protocol, pointed at 127.0.0.1), used only for
 * the owner the secret's tag names, and masked in what the process writes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactUrls } from '../../../shared/redact.js';
import { checkableUrl, fillSecrets, secretRefs } from '../../../shared/secretRefs.js';
import { UrlPolicyError } from '../../../shared/urlPolicy.js';
import { SecretResolver } from '../../../worker/agent/secrets.js';
import { type SecretsServer, startSecretsServer } from '../../helpers/secretsServer.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
let server: SecretsServer;
let resolver: SecretResolver;

beforeAll(async () => {
  server = await startSecretsServer({
    'streamqc/cdn-token': { value: 'tok/en+9f8e7d', tags: { 'streamqc:owner': 'alice' } },
    'streamqc/origin': {
      value: JSON.stringify({ user: 'ingest', password: 'pa:ss@word' }),
      tags: { 'streamqc:owner': 'alice' },
    },
    'streamqc/bobs': { value: 'bob-only-secret', tags: { 'streamqc:owner': 'bob' } },
    'streamqc/untagged': { value: 'untagged-secret' },
  });
  resolver = new SecretResolver({
    STREAMQC_SECRETS_ENDPOINT: server.url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  });
  // The SDK reads credentials from the process environment.
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  process.env.AWS_REGION ??= 'us-east-1';
});
afterAll(async () => {
  await server.close();
});

describe('secret references in a URL', () => {
  it('are found with their names and keys, and filled URL-encoded', () => {
    const url =
      'https://{{secret:streamqc/origin:user}}:{{secret:streamqc/origin:password}}@cdn.example/a.m3u8?t={{secret:streamqc/cdn-token}}';

    expect(secretRefs(url).map((r) => [r.name, r.key])).toEqual([
      ['streamqc/origin', 'user'],
      ['streamqc/origin', 'password'],
      ['streamqc/cdn-token', undefined],
    ]);
    expect(fillSecrets(url, (r) => (r.key ? `${r.key}@/?` : 'v'))).toBe(
      'https://user%40%2F%3F:password%40%2F%3F@cdn.example/a.m3u8?t=v',
    );
  });

  it('are refused at the API when malformed, outside streamqc/, or in the host', () => {
    const refused = (url: string) => {
      try {
        checkableUrl(url);
        return null;
      } catch (e) {
        return e instanceof UrlPolicyError ? e.code : 'other';
      }
    };

    expect(refused('https://cdn.example/a.m3u8?t={{secret:streamqc/t}}')).toBeNull();
    expect(refused('https://cdn.example/a.m3u8?t={{secret:prod/db-password}}')).toBe('url_invalid');
    expect(refused('https://cdn.example/a.m3u8?t={{secret:streamqc/t')).toBe('url_invalid');
    expect(refused('https://{{secret:streamqc/host}}/a.m3u8')).toBe('url_invalid');
    expect(refused('https://cdn.{{secret:streamqc/host}}.example/a.m3u8')).toBe('url_invalid');
    expect(checkableUrl('https://cdn.example/a.m3u8?t={{secret:streamqc/t}}')).toBe(
      'https://cdn.example/a.m3u8?t=a',
    );
  });
});

describe('the worker resolving them from Secrets Manager', () => {
  it("fills a URL for the secret's owner, with JSON keys, and masks the values from then on", async () => {
    const url = await resolver.resolve(
      'https://{{secret:streamqc/origin:user}}:{{secret:streamqc/origin:password}}@cdn.example/live/{{secret:streamqc/cdn-token}}/a.m3u8',
      'alice',
    );

    expect(url).toBe('https://ingest:pa%3Ass%40word@cdn.example/live/tok%2Fen%2B9f8e7d/a.m3u8');
    // A value in the path is no URL credential; it is masked because it came from the store.
    expect(redactUrls(`failed to open ${url}`)).not.toMatch(/tok%2Fen|pa%3Ass/);
    expect(redactUrls('a line with tok/en+9f8e7d in it')).toBe('a line with *** in it');
  });

  it("refuses another owner's secret and an untagged one, saying why", async () => {
    await expect(
      resolver.resolve('https://cdn.example/a.m3u8?t={{secret:streamqc/bobs}}', 'alice'),
    ).rejects.toThrow(/not tagged streamqc:owner with this stream's owner/);
    await expect(
      resolver.resolve('https://cdn.example/a.m3u8?t={{secret:streamqc/untagged}}', 'alice'),
    ).rejects.toThrow(/not tagged/);
    expect(redactUrls('bob-only-secret')).toBe('***');
  });

  it('says when a secret does not exist or has no such key', async () => {
    await expect(
      resolver.resolve('https://cdn.example/a.m3u8?t={{secret:streamqc/nope}}', 'alice'),
    ).rejects.toThrow(/cannot read secret streamqc\/nope: .*can't find/);
    await expect(
      resolver.resolve('https://cdn.example/a.m3u8?t={{secret:streamqc/origin:token}}', 'alice'),
    ).rejects.toThrow(/has no string key token/);
  });

  it('reads each secret once while it is cached', async () => {
    const before = server.calls.filter((c) => c.endsWith('streamqc/cdn-token')).length;

    await resolver.resolve('https://cdn.example/a.m3u8?t={{secret:streamqc/cdn-token}}', 'alice');
    await resolver.resolve('https://cdn.example/b.m3u8?t={{secret:streamqc/cdn-token}}', 'alice');

    expect(server.calls.filter((c) => c.endsWith('streamqc/cdn-token')).length).toBe(before);
  });
});
