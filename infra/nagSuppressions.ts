/**
 * cdk-nag AwsSolutions findings we accept, each acknowledged on the one construct it concerns and
 * with the reason. Any other finding fails `npm test` (test/infra/stack.test.ts).
 */
import { type CfnElement, Stack, Token, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** Names in finding ids that depend on where the construct sits (logical ids, the environment). */
interface NagNames {
  /** `<LogicalId.Arn>` of a table of the construct. */
  tableArn: (table: 'Streams' | 'Units' | 'Outbox') => string;
  /** The Secrets Manager ARN prefix as cdk-nag renders it (environment tokens or literals). */
  secretsArn: string;
  /** `<LogicalId.Arn>` of the media bucket. */
  mediaBucketArn: string;
}

interface Acknowledged {
  path: string;
  id: string | ((names: NagNames) => string);
  reason: string;
}

/** Each finding accepted: the construct it is on (below the Streamqc construct), the rule, why. */
const ACKNOWLEDGED: Acknowledged[] = [
  {
    path: 'WorkerTask/TaskRole',
    id: (n) => `AwsSolutions-IAM5[Resource::${n.tableArn('Streams')}/index/*]`,
    reason:
      "Workers query the streams table's own secondary indexes (CDK grant on this table's index ARNs only).",
  },
  {
    path: 'Dispatcher/ServiceRole',
    id: (n) => `AwsSolutions-IAM5[Resource::${n.tableArn('Streams')}/index/*]`,
    reason: "The API lists an owner's streams through the streams table's own byOwner index.",
  },
  ...(['WorkerTask/TaskRole', 'Dispatcher/ServiceRole'] as const).flatMap((path) => [
    {
      path,
      id: (n: NagNames) => `AwsSolutions-IAM5[Resource::${n.tableArn('Units')}/index/*]`,
      reason:
        "Leases are found through the units table's own waiting and byHolder indexes (this table only).",
    },
    {
      path,
      id: (n: NagNames) => `AwsSolutions-IAM5[Resource::${n.tableArn('Outbox')}/index/*]`,
      reason: "Due events are found through the outbox table's own due index (this table only).",
    },
  ]),
  {
    path: 'WorkerTask/TaskRole',
    id: (n) => `AwsSolutions-IAM5[Resource::${n.secretsArn}:secret:streamqc/*]`,
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
  ...(['WorkerTask/TaskRole', 'Dispatcher/ServiceRole'] as const).map((path) => ({
    path,
    id: (n: NagNames) => `AwsSolutions-IAM5[Resource::${n.mediaBucketArn}/streams/*]`,
    reason:
      'Thumbnails and evidence are objects under streams/<stream id>/ of the media bucket, named when a stream or an alarm appears: workers may only put them, the dispatcher only get them (to presign a link).',
  })),
  {
    path: 'MediaBucket',
    id: 'AwsSolutions-S1',
    reason:
      'The media bucket holds thumbnails and alarm evidence only (no configuration, no credentials); reads go through links the API presigns after its own authorisation and access log. CloudTrail S3 data events can be turned on where object-level audit is required.',
  },
  ...(['Api/GET--console', 'Api/GET--console--{file}'] as const).map((path) => ({
    path,
    id: 'AwsSolutions-APIG4',
    reason:
      "The console's page, script and style sheet hold no data and are served without credentials; the data they show comes from routes that require IAM or the console's JWT sign-in.",
  })),
  {
    path: 'Api/GET--health',
    id: 'AwsSolutions-APIG4',
    reason:
      'GET /health is unauthenticated by contract (liveness and version only); every other route uses IAM.',
  },
];

/** The construct the findings are on: a `Streamqc`, or the one in a `StreamqcStack`. */
function streamqcOf(scope: IConstruct): IConstruct {
  return scope instanceof Stack && scope.node.tryFindChild('Default')
    ? scope.node.findChild('Default')
    : scope;
}

/** The acknowledgements for one construct, with their ids as cdk-nag writes them there. */
export function acknowledgements(scope: IConstruct): { path: string; id: string; reason: string }[] {
  const root = streamqcOf(scope);
  const stack = Stack.of(root);
  const env = (value: string, token: string) => (Token.isUnresolved(value) ? `<${token}>` : value);
  const names: NagNames = {
    tableArn: (table) => {
      const resource = root.node.findChild(`${table}Table`).node.defaultChild as CfnElement;
      return `<${stack.getLogicalId(resource)}.Arn>`;
    },
    mediaBucketArn: `<${stack.getLogicalId(root.node.findChild('MediaBucket').node.defaultChild as CfnElement)}.Arn>`,
    secretsArn: `arn:<AWS::Partition>:secretsmanager:${env(stack.region, 'AWS::Region')}:${env(stack.account, 'AWS::AccountId')}`,
  };
  return ACKNOWLEDGED.map(({ path, id, reason }) => ({
    path,
    id: typeof id === 'string' ? id : id(names),
    reason,
  }));
}

/**
 * Acknowledges the findings above on a `Streamqc` construct (or a `StreamqcStack`, for its
 * construct): a team embedding the construct under cdk-nag calls it too.
 */
export function addNagSuppressions(scope: IConstruct): void {
  const root = streamqcOf(scope);
  const all = root.node.findAll();
  for (const { path, id, reason } of acknowledgements(root)) {
    const target = all.find((c) => c.node.path === `${root.node.path}/${path}`);
    if (target) Validations.of(target).acknowledge({ id, reason });
  }
}
