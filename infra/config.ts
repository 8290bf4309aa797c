/** The stack's parameters, read from CDK context (cdk.json or `-c name=value`), with defaults. */
import type { Node } from 'constructs';

export interface StackParams {
  /** Existing VPC id; omitted: a new VPC is created. */
  vpcId?: string;
  /** Fargate task size. */
  taskCpu: number;
  taskMemoryMiB: number;
  /** Streams (work units) one task runs before it stops claiming. */
  streamBudget: number;
  minTasks: number;
  maxTasks: number;
  /** Worker heartbeat interval and fleet lease, seconds (see README "Registry" for the cost). */
  heartbeatSeconds: number;
  leaseSeconds: number;
  /** Email address subscribed to the defect topic. */
  alertEmail?: string;
  /** Create an SQS queue subscribed to the defect topic. */
  alertQueue: boolean;
  /** API throttling: steady requests per second and burst. */
  apiRateLimit: number;
  apiBurstLimit: number;
}

function num(node: Node, key: string, fallback: number): number {
  const raw = node.tryGetContext(key);
  if (raw === undefined || raw === null || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`context ${key} must be a number, not ${raw}`);
  return value;
}

export function stackParams(node: Node): StackParams {
  const params: StackParams = {
    vpcId: node.tryGetContext('vpcId') || undefined,
    taskCpu: num(node, 'taskCpu', 1024),
    taskMemoryMiB: num(node, 'taskMemoryMiB', 2048),
    streamBudget: num(node, 'streamBudget', 6),
    minTasks: num(node, 'minTasks', 1),
    maxTasks: num(node, 'maxTasks', 20),
    heartbeatSeconds: num(node, 'heartbeatSeconds', 10),
    leaseSeconds: num(node, 'leaseSeconds', 30),
    alertEmail: node.tryGetContext('alertEmail') || undefined,
    alertQueue: String(node.tryGetContext('alertQueue') ?? 'false') === 'true',
    apiRateLimit: num(node, 'apiRateLimit', 50),
    apiBurstLimit: num(node, 'apiBurstLimit', 100),
  };
  if (params.minTasks > params.maxTasks) throw new Error('context minTasks must not exceed maxTasks');
  return params;
}
