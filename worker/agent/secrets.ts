/**
 * Resolves the secret references of a stream URL (shared/secretRefs.ts) from AWS Secrets Manager
 * when the worker opens the stream. A secret serves only the owner its `streamqc:owner` tag names
 * (DescribeSecret), so one owner cannot register another's secret by name. Values are cached for
 * five minutes (a rotated secret is picked up at the next open after that) and masked in
 * everything the process writes (shared/redact.ts), wherever in the URL they stand.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { recordAwsCalls } from '../../shared/awsCallLog.js';
import { maskValue } from '../../shared/redact.js';
import { fillSecrets, SECRET_OWNER_TAG, type SecretRef, secretRefs } from '../../shared/secretRefs.js';

const CACHE_MS = 5 * 60_000;

/** A reference that cannot be resolved for this owner: shown as the unit's error. */
export class SecretError extends Error {}

/** The part of the client used here (a test may hand a client pointed at a local endpoint). */
type Client = Pick<SecretsManagerClient, 'send'>;

export class SecretResolver {
  private readonly cache = new Map<string, { owner: string | null; value: string; at: number }>();

  private client: Promise<Client> | null = null;
  private sdk: typeof import('@aws-sdk/client-secrets-manager') | null = null;

  /**
   * STREAMQC_SECRETS_ENDPOINT: another endpoint (a local one). The SDK is loaded on first use:
   * workers whose streams reference no secret never pay for it.
   */
  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  private async connect(): Promise<Client> {
    this.client ??= import('@aws-sdk/client-secrets-manager').then((sdk) => {
      this.sdk = sdk;
      const client = new sdk.SecretsManagerClient({
        ...(this.env.STREAMQC_SECRETS_ENDPOINT ? { endpoint: this.env.STREAMQC_SECRETS_ENDPOINT } : {}),
        maxAttempts: 3,
      });
      recordAwsCalls(client, 'secretsmanager');
      return client;
    });
    return this.client;
  }

  /** The URL with its references filled for `owner`; the URL itself when it has none. */
  async resolve(url: string, owner: string): Promise<string> {
    const refs = secretRefs(url);
    if (refs.length === 0) return url;
    const values = new Map<string, string>();
    for (const ref of refs) values.set(ref.text, await this.value(ref, owner));
    return fillSecrets(url, (ref) => values.get(ref.text) ?? '');
  }

  private async value(ref: SecretRef, owner: string): Promise<string> {
    const secret = await this.secret(ref.name);
    if (secret.owner !== owner)
      throw new SecretError(
        `secret ${ref.name} is not tagged ${SECRET_OWNER_TAG} with this stream's owner; it is not used`,
      );
    if (ref.key === undefined) return secret.value;
    let field: unknown;
    try {
      field = (JSON.parse(secret.value) as Record<string, unknown>)[ref.key];
    } catch {
      throw new SecretError(`secret ${ref.name} is not JSON, so it has no key ${ref.key}`);
    }
    if (typeof field !== 'string' && typeof field !== 'number')
      throw new SecretError(`secret ${ref.name} has no string key ${ref.key}`);
    const value = String(field);
    maskValue(value);
    return value;
  }

  private async secret(name: string): Promise<{ owner: string | null; value: string }> {
    const cached = this.cache.get(name);
    if (cached && Date.now() - cached.at < CACHE_MS) return cached;
    let owner: string | null;
    let value: string;
    try {
      const client = await this.connect();
      const sdk = this.sdk as NonNullable<typeof this.sdk>;
      const described = await client.send(new sdk.DescribeSecretCommand({ SecretId: name }));
      owner = described.Tags?.find((t) => t.Key === SECRET_OWNER_TAG)?.Value ?? null;
      const got = await client.send(new sdk.GetSecretValueCommand({ SecretId: name }));
      if (got.SecretString === undefined)
        throw new Error('it has no SecretString (binary secrets are not used)');
      value = got.SecretString;
    } catch (e) {
      throw new SecretError(`cannot read secret ${name}: ${(e as Error).message}`);
    }
    maskValue(value);
    const entry = { owner, value, at: Date.now() };
    this.cache.set(name, entry);
    return entry;
  }
}
