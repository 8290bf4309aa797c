/**
 * The stack's parameters, read from CDK context (cdk.json or `-c name=value`), with defaults. An
 * environment (`-c env=prod`) picks a block of `environments` in cdk.json: its account, region
 * and parameter values, which win over the top-level ones.
 */
import type { Node } from 'constructs';

export type NetworkLayout = 'public' | 'nat';
export type CpuArchitecture = 'x86_64' | 'arm64';

export interface StackParams {
  /** The environment's name (tags, stack name suffix); "default" without -c env. */
  environment: string;
  /** Account and region the environment pins (undefined: the CLI's defaults). */
  account?: string;
  region?: string;
  /** Existing VPC id; omitted: a new VPC is created. */
  vpcId?: string;
  /**
   * Where tasks run: `public` subnets with public IPs and no NAT gateway (no inbound rule;
   * ingest costs nothing extra), or `nat`: private subnets behind one NAT gateway per AZ.
   */
  network: NetworkLayout;
  /** Interface endpoints (ECR, CloudWatch Logs, SNS, ECS) so AWS traffic leaves no subnet. */
  interfaceEndpoints: boolean;
  /** Fargate task size and CPU architecture (the image is built for the same platform). */
  taskCpu: number;
  taskMemoryMiB: number;
  cpuArchitecture: CpuArchitecture;
  /** Streams (work units) one task runs before it stops claiming. */
  streamBudget: number;
  minTasks: number;
  maxTasks: number;
  /** Worker heartbeat interval and fleet lease, seconds (see docs/aws.md "Registry and scale" for the cost). */
  heartbeatSeconds: number;
  leaseSeconds: number;
  /** Days every log group keeps its events. */
  logRetentionDays: number;
  /** Email address subscribed to the defect topic. */
  alertEmail?: string;
  /** Create an SQS queue subscribed to the defect topic. */
  alertQueue: boolean;
  /** API throttling: steady requests per second and burst. */
  apiRateLimit: number;
  apiBurstLimit: number;
  /**
   * Development stacks only: the registry's tables go with the stack (no deletion protection,
   * removal policy DESTROY). Off by default: a stack delete or a replacement keeps every stream.
   */
  destroyTables: boolean;
  /** Days the media bucket keeps alarm evidence and thumbnails. */
  evidenceDays: number;
  /** Seconds between a stream's stored thumbnails (each one an S3 PUT: cost grows with streams). */
  thumbnailSeconds: number;
  /**
   * The console's sign-in on AWS (browsers cannot sign requests with SigV4): an OpenID Connect
   * issuer (e.g. a Cognito user pool's `https://cognito-idp.<region>.amazonaws.com/<pool id>`)
   * and the audience (app client id) whose JWTs the console API accepts; the owner is the token's
   * `streamqc:owner` claim. Absent: the console's files are served, its data routes are not.
   */
  consoleJwtIssuer?: string;
  consoleJwtAudience?: string;
}

type Values = Record<string, unknown>;

function num(values: Values, key: string, fallback: number): number {
  const raw = values[key];
  if (raw === undefined || raw === null || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`context ${key} must be a number, not ${raw}`);
  return value;
}

function oneOf<T extends string>(values: Values, key: string, allowed: readonly T[], fallback: T): T {
  const raw = values[key];
  if (raw === undefined || raw === null || raw === '') return fallback;
  if (!allowed.includes(raw as T))
    throw new Error(`context ${key} must be one of ${allowed.join(', ')}, not ${raw}`);
  return raw as T;
}

/** The parameters without any context: what the `Streamqc` construct uses for what props leave out. */
export function defaultParams(): StackParams {
  return stackParams({ tryGetContext: () => undefined });
}

export function stackParams(node: Pick<Node, 'tryGetContext'>): StackParams {
  const environment = String(node.tryGetContext('env') ?? 'default');
  const environments = (node.tryGetContext('environments') ?? {}) as Record<string, Values>;
  if (environment !== 'default' && !environments[environment])
    throw new Error(`context env=${environment}: no such block under "environments" in cdk.json`);
  // An environment's block wins over the top-level context (cdk.json's defaults and -c values).
  const block = environments[environment] ?? {};
  const values: Values = new Proxy({}, { get: (_t, key: string) => block[key] ?? node.tryGetContext(key) });
  const params: StackParams = {
    environment,
    account: (environments[environment]?.account as string | undefined) || undefined,
    region: (environments[environment]?.region as string | undefined) || undefined,
    vpcId: (values.vpcId as string | undefined) || undefined,
    network: oneOf(values, 'network', ['public', 'nat'] as const, 'public'),
    interfaceEndpoints: String(values.interfaceEndpoints ?? 'false') === 'true',
    taskCpu: num(values, 'taskCpu', 1024),
    taskMemoryMiB: num(values, 'taskMemoryMiB', 2048),
    cpuArchitecture: oneOf(values, 'cpuArchitecture', ['x86_64', 'arm64'] as const, 'x86_64'),
    streamBudget: num(values, 'streamBudget', 12),
    minTasks: num(values, 'minTasks', 1),
    maxTasks: num(values, 'maxTasks', 100),
    heartbeatSeconds: num(values, 'heartbeatSeconds', 10),
    leaseSeconds: num(values, 'leaseSeconds', 30),
    logRetentionDays: num(values, 'logRetentionDays', 30),
    alertEmail: (values.alertEmail as string | undefined) || undefined,
    alertQueue: String(values.alertQueue ?? 'false') === 'true',
    apiRateLimit: num(values, 'apiRateLimit', 50),
    apiBurstLimit: num(values, 'apiBurstLimit', 100),
    destroyTables: String(values.destroyTables ?? 'false') === 'true',
    evidenceDays: num(values, 'evidenceDays', 30),
    thumbnailSeconds: num(values, 'thumbnailSeconds', 30),
    consoleJwtIssuer: (values.consoleJwtIssuer as string | undefined) || undefined,
    consoleJwtAudience: (values.consoleJwtAudience as string | undefined) || undefined,
  };
  if (params.minTasks > params.maxTasks) throw new Error('context minTasks must not exceed maxTasks');
  return params;
}
