/**
 * The CDK stack, synthesized offline (no credentials, no network, no Docker engine): the
 * resources and IAM policies that matter, and cdk-nag's AwsSolutions pack with nothing
 * unacknowledged.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { stackParams } from '../../infra/config.js';
import { addNagSuppressions } from '../../infra/nagSuppressions.js';
import { STOP_TIMEOUT_SECONDS, StreamqcStack } from '../../infra/StreamqcStack.js';
import { ROOT } from '../helpers/runCli.js';

let app: App;
let stack: StreamqcStack;
let template: Template;

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

function statementsOf(policyIdPrefix: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.entries(policies)
    .filter(([id]) => id.startsWith(policyIdPrefix))
    .flatMap(
      ([, p]) =>
        (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
          .Statement,
    );
}

function actions(statements: Statement[]): string[] {
  return statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
}

beforeAll(() => {
  app = new App({ context: { alertEmail: 'oncall@example.com', alertQueue: 'true', maxTasks: 12 } });
  stack = new StreamqcStack(app, 'Streamqc', { params: stackParams(app.node), repoRoot: ROOT });
  addNagSuppressions(stack);
  template = Template.fromStack(stack);
}, 120_000);

describe('registry tables', () => {
  it('creates the eight tables on demand with point-in-time recovery, TTL where items expire', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 8);
    template.allResourcesProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
    const withTtl = Object.values(
      template.findResources('AWS::DynamoDB::Table', {
        Properties: { TimeToLiveSpecification: { Enabled: true, AttributeName: 'expiresAt' } },
      }),
    );
    expect(withTtl).toHaveLength(5);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: [Match.objectLike({ IndexName: 'byOwner' })],
    });
    // Indexes project keys only: a write to an item never rewrites a copy of it.
    const indexes = Object.values(template.findResources('AWS::DynamoDB::Table')).flatMap(
      (t) => (t.Properties.GlobalSecondaryIndexes ?? []) as Array<{ IndexName: string; Projection: unknown }>,
    );
    expect(indexes.map((i) => i.IndexName).sort()).toEqual(['byHolder', 'byOwner', 'due', 'waiting']);
    for (const index of indexes) expect(index.Projection).toEqual({ ProjectionType: 'KEYS_ONLY' });
  });
});

describe('defect topic', () => {
  it('is encrypted with a rotating KMS key and refuses non-TLS access', () => {
    template.hasResourceProperties('AWS::SNS::Topic', {
      DisplayName: 'streamqc defects',
      KmsMasterKeyId: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('subscribes the email address and an encrypted SQS queue from context', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'sqs', RawMessageDelivery: true });
    template.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: Match.anyValue(),
      RedrivePolicy: Match.anyValue(),
    });
  });
});

describe('workers on Fargate', () => {
  it('runs the worker image built from worker/Dockerfile with a health check and a drain-sized stop timeout', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RequiresCompatibilities: ['FARGATE'],
      Cpu: '1024',
      Memory: '2048',
      ContainerDefinitions: [
        Match.objectLike({
          StopTimeout: STOP_TIMEOUT_SECONDS,
          HealthCheck: Match.objectLike({ Command: Match.arrayWith(['CMD']) }),
          Environment: Match.arrayWith([
            Match.objectLike({ Name: 'STREAMQC_SNS_TOPIC_ARN' }),
            { Name: 'STREAMQC_STREAM_BUDGET', Value: '6' },
          ]),
        }),
      ],
    });
    const assembly = app.synth();
    const manifest = JSON.parse(
      readFileSync(join(assembly.directory, `${stack.artifactId}.assets.json`), 'utf8'),
    );
    const images = Object.values(manifest.dockerImages) as { source: { dockerFile?: string } }[];
    expect(images.map((i) => i.source.dockerFile)).toEqual(['worker/Dockerfile']);
  });

  it('scales on the workers’ own load metric between the configured bounds', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 1,
      MaxCapacity: 12,
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        TargetValue: 0.7,
        CustomizedMetricSpecification: Match.objectLike({ MetricName: 'LoadRatio', Namespace: 'streamqc' }),
      }),
    });
  });

  it('gives the task role only DynamoDB, SNS publish, the topic key and its own scale-in protection', () => {
    const granted = new Set(actions(statementsOf('WorkerTaskTaskRoleDefaultPolicy')));

    for (const action of granted)
      expect(action).toMatch(
        /^(dynamodb|sns:Publish$|kms:(Decrypt|GenerateDataKey\*)$|ecs:(Update|Get)TaskProtection$)/,
      );
    expect(granted).toContain('sns:Publish');
    expect(granted).not.toContain('dynamodb:DeleteTable');
  });
});

describe('dispatcher', () => {
  it('is a Node.js 22 Lambda behind an HTTP API that requires IAM on every route but /health', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      TracingConfig: { Mode: 'Active' },
    });
    const routes = template.findResources('AWS::ApiGatewayV2::Route');
    const byKey = Object.fromEntries(
      Object.values(routes).map((r) => {
        const { RouteKey, AuthorizationType } = (
          r as { Properties: { RouteKey: string; AuthorizationType: string } }
        ).Properties;
        return [RouteKey, AuthorizationType];
      }),
    );
    expect(byKey).toEqual({
      'GET /streams': 'AWS_IAM',
      'POST /streams': 'AWS_IAM',
      'GET /streams/{id}': 'AWS_IAM',
      'DELETE /streams/{id}': 'AWS_IAM',
      'GET /streams/{id}/defects': 'AWS_IAM',
      'GET /health': 'NONE',
    });
  });

  it('throttles the API and writes access logs', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
    });
  });

  it('may only describe and update the worker service, nothing else in ECS', () => {
    const ecs = statementsOf('DispatcherServiceRoleDefaultPolicy').filter((s) =>
      actions([s]).some((a) => a.startsWith('ecs:')),
    );

    expect(ecs).toHaveLength(1);
    expect(actions(ecs).sort()).toEqual(['ecs:DescribeServices', 'ecs:UpdateService']);
    expect(ecs[0].Resource).toEqual({ Ref: expect.stringMatching(/^Workers/) });
  });
});

describe('operations', () => {
  it('alarms on waiting units, lagging workers, missing heartbeats and dispatcher errors, and has a dashboard', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 5);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'UnitsWaiting', Threshold: 1 });
    // The fleet check runs once a minute (it reports UnitsWaiting and asks for capacity).
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'MaxLagSeconds', Threshold: 10 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Heartbeats',
      TreatMissingData: 'breaching',
    });
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged finding', () => {
    const report = new AwsSolutionsChecks(app).validateScope(stack);

    expect(
      report.violations.map(
        (v) => `${v.ruleName} @ ${v.violatingResources.map((r) => r.constructPath).join(',')}`,
      ),
    ).toEqual([]);
    expect(report.success).toBe(true);
  });
});
