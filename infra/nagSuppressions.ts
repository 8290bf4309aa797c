/**
 * cdk-nag AwsSolutions findings we accept, each acknowledged on the one construct it concerns and
 * with the reason. Any other finding fails `npm test` (test/infra/stack.test.ts).
 */
import { type Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** Each finding accepted: the construct it is on (below the stack), the rule, why. */
export const ACKNOWLEDGED: { path: string; id: string; reason: string }[] = [
  {
    path: 'WorkerTask/TaskRole',
    id: 'AwsSolutions-IAM5[Resource::<StreamsTableF22724BF.Arn>/index/*]',
    reason:
      "Workers query the streams table's own secondary indexes (CDK grant on this table's index ARNs only).",
  },
  {
    path: 'Dispatcher/ServiceRole',
    id: 'AwsSolutions-IAM5[Resource::<StreamsTableF22724BF.Arn>/index/*]',
    reason: "The API lists an owner's streams through the streams table's own byOwner index.",
  },
  ...(['WorkerTask/TaskRole', 'Dispatcher/ServiceRole'] as const).flatMap((path) => [
    {
      path,
      id: 'AwsSolutions-IAM5[Resource::<UnitsTable1B3E1C55.Arn>/index/*]',
      reason:
        "Leases are found through the units table's own waiting and byHolder indexes (this table only).",
    },
    {
      path,
      id: 'AwsSolutions-IAM5[Resource::<OutboxTable0731F305.Arn>/index/*]',
      reason: "Due events are found through the outbox table's own due index (this table only).",
    },
  ]),
  {
    path: 'WorkerTask/TaskRole',
    id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:streamqc/*]',
    reason:
      'Secret references in stream URLs name secrets the owners create; the role reads only those under streamqc/, and the worker uses one only for the owner its streamqc:owner tag names.',
  },
  {
    path: 'WorkerTask/TaskRole',
    id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
    reason:
      'Publishing to the KMS-encrypted topic needs GenerateDataKey* on that one key (CDK grantPublish).',
  },
  {
    path: 'WorkerTask/ExecutionRole',
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'ecr:GetAuthorizationToken has no resource-level permissions; image pulls are limited to the asset repository.',
  },
  {
    path: 'Dispatcher/ServiceRole',
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'X-Ray PutTraceSegments/PutTelemetryRecords take no resource ARN.',
  },
  {
    path: 'Dispatcher/ServiceRole',
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason: 'The AWS-managed minimum for a Lambda function to write its own logs.',
  },
  {
    path: 'WorkerTask',
    id: 'AwsSolutions-ECS2',
    reason: 'Environment variables hold only table names, the topic ARN and tuning numbers, never secrets.',
  },
  {
    path: 'Api/GET--health',
    id: 'AwsSolutions-APIG4',
    reason:
      'GET /health is unauthenticated by contract (liveness and version only); every other route uses IAM.',
  },
];

export function addNagSuppressions(stack: Stack): void {
  for (const { path, id, reason } of ACKNOWLEDGED) {
    const target =
      stack.node.tryFindChild(path.split('/')[0]) && findByPath(stack, `${stack.node.path}/${path}`);
    if (target) Validations.of(target).acknowledge({ id, reason });
  }
}

function findByPath(stack: Stack, path: string): IConstruct | undefined {
  return stack.node.findAll().find((c) => c.node.path === path);
}
