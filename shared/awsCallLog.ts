/**
 * A record of every AWS call a process makes, for the test that checks each one against the IAM
 * policies of the synthesized stack (test/system/localStack.test.ts). Off unless
 * STREAMQC_AWS_CALL_LOG names a file; then each request appends one JSON line: which role the
 * process runs as on AWS, the IAM action, and the resources the request names.
 */
import { appendFileSync } from 'node:fs';

/** The IAM principal a process kind runs as on AWS. */
export type AwsCallerRole = 'worker' | 'dispatcher' | 'operator';

export interface AwsCall {
  role: AwsCallerRole | 'unknown';
  /** IAM action, e.g. `dynamodb:BatchGetItem`. */
  action: string;
  /** `table/<name>`, `table/<name>/index/<index>`, a topic ARN, `service/<cluster>/<service>`. */
  resources: string[];
}

let role: AwsCallerRole | 'unknown' = 'unknown';

/** Says which role this process's calls are made as (the composition root says it once). */
export function setAwsCallerRole(r: AwsCallerRole): void {
  role = r;
}

/** The resources one request names, as the IAM policy would see them (without the ARN prefix). */
export function requestResources(service: string, input: Record<string, unknown>): string[] {
  const out = new Set<string>();
  const table = (o: unknown) => {
    const t = o as { TableName?: string; IndexName?: string } | undefined;
    if (t?.TableName) out.add(`table/${t.TableName}${t.IndexName ? `/index/${t.IndexName}` : ''}`);
  };
  if (service === 'dynamodb') {
    table(input);
    for (const name of Object.keys((input.RequestItems as object) ?? {})) out.add(`table/${name}`);
    for (const item of (input.TransactItems as Array<Record<string, unknown>>) ?? [])
      for (const op of Object.values(item)) table(op);
  }
  if (typeof input.TopicArn === 'string') out.add(input.TopicArn);
  if (service === 'secretsmanager' && typeof input.SecretId === 'string') out.add(`secret:${input.SecretId}`);
  // S3 object calls name `bucket/key` (HeadObject is granted by s3:GetObject, as IAM does).
  if (service === 's3' && typeof input.Bucket === 'string')
    out.add(`s3:${input.Bucket}/${String(input.Key ?? '')}`);
  if (service === 'ecs' && Array.isArray(input.services))
    for (const s of input.services) out.add(`service/${String(input.cluster ?? 'default')}/${s}`);
  return [...out];
}

/** The part of an AWS SDK v3 client's middleware stack used here (any client has it). */
interface MiddlewareStackLike {
  add: (
    middleware: (
      next: (args: { input: object }) => Promise<unknown>,
      context: { commandName?: string },
    ) => (args: { input: object }) => Promise<unknown>,
    options: { step: 'initialize'; name: string },
  ) => void;
}

/** Records the client's calls when STREAMQC_AWS_CALL_LOG is set (a no-op otherwise). */
export function recordAwsCalls(
  client: { middlewareStack: object },
  service: 'dynamodb' | 'sns' | 'ecs' | 'secretsmanager' | 's3',
): void {
  const file = process.env.STREAMQC_AWS_CALL_LOG;
  if (!file) return;
  (client.middlewareStack as MiddlewareStackLike).add(
    (next, context) => async (args) => {
      const command = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      const call: AwsCall = {
        role,
        // IAM has no action of its own for HeadObject: s3:GetObject grants it.
        action: `${service}:${service === 's3' && command === 'HeadObject' ? 'GetObject' : command}`,
        resources: requestResources(service, args.input as Record<string, unknown>),
      };
      appendFileSync(file, `${JSON.stringify(call)}\n`);
      return next(args);
    },
    { step: 'initialize', name: 'streamqcAwsCallLog' },
  );
}
