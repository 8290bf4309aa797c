/**
 * The CDK stack, synthesized offline (no credentials, no network, no Docker engine): the
 * resources and IAM policies that matter, and cdk-nag's AwsSolutions pack with nothing
 * unacknowledged.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../dispatcher/routes.js';
import { stackParams } from '../../infra/config.js';
import { acknowledgements, addNagSuppressions } from '../../infra/nagSuppressions.js';
import {
  STATEFUL_TABLES,
  STOP_TIMEOUT_SECONDS,
  Streamqc,
  StreamqcStack,
  WORKER_IMAGE_FILES,
} from '../../infra/StreamqcStack.js';
import { TABLE_NAMES } from '../../shared/registry/tables.js';
import { ROOT } from '../helpers/runCli.js';

let app: App;
let stack: StreamqcStack;
let template: Template;

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation properties are untyped JSON
type Cfn = Record<string, any>;
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

  it('keeps the stateful tables through a stack delete or replacement, and protects them from deletion', () => {
    const tables = template.findResources('AWS::DynamoDB::Table');
    const byName = Object.fromEntries(
      TABLE_NAMES.map((name) => [
        name,
        tables[stack.getLogicalId(stack.tables[name].node.defaultChild as CfnElement)],
      ]),
    );

    for (const name of STATEFUL_TABLES) {
      expect(byName[name].DeletionPolicy, name).toBe('Retain');
      expect(byName[name].UpdateReplacePolicy, name).toBe('Retain');
      expect(byName[name].Properties.DeletionProtectionEnabled, name).toBe(true);
    }
    // Heartbeats and health are rewritten within seconds by the workers that run next.
    for (const name of ['workers', 'health'] as const) expect(byName[name].DeletionPolicy).toBe('Delete');
  });

  it('lets a development stack drop its tables with -c destroyTables=true', () => {
    const devApp = new App({ context: { destroyTables: 'true' } });
    const dev = new StreamqcStack(devApp, 'Dev', { params: stackParams(devApp.node), repoRoot: ROOT });
    const tables = Object.values(Template.fromStack(dev).findResources('AWS::DynamoDB::Table'));

    for (const t of tables) {
      expect(t.DeletionPolicy).toBe('Delete');
      expect(t.Properties.DeletionProtectionEnabled).toBeUndefined();
    }
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
            { Name: 'STREAMQC_STREAM_BUDGET', Value: '12' },
          ]),
        }),
      ],
    });
    const assembly = app.synth();
    const manifest = JSON.parse(
      readFileSync(join(assembly.directory, `${stack.artifactId}.assets.json`), 'utf8'),
    );
    const images = Object.values(manifest.dockerImages) as {
      source: { dockerFile?: string; platform?: string; directory: string };
    }[];
    expect(images.map((i) => i.source.dockerFile)).toEqual(['worker/Dockerfile']);
    // Built for the task's architecture, whatever machine runs the deploy.
    expect(images[0].source.platform).toBe('linux/amd64');
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RuntimePlatform: { CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' },
    });
    // The build context holds the worker's files only: a README edit does not restart every stream.
    const staged = readdirSync(join(assembly.directory, images[0].source.directory)).sort();
    expect(staged).toEqual(['.dockerignore', ...WORKER_IMAGE_FILES].sort());
  });

  it('builds an arm64 image for an arm64 task when asked', () => {
    const armApp = new App({ context: { cpuArchitecture: 'arm64' } });
    const armStack = new StreamqcStack(armApp, 'Arm', { params: stackParams(armApp.node), repoRoot: ROOT });
    const assembly = armApp.synth();
    const manifest = JSON.parse(
      readFileSync(join(assembly.directory, `${armStack.artifactId}.assets.json`), 'utf8'),
    );
    const images = Object.values(manifest.dockerImages) as { source: { platform?: string } }[];

    expect(images[0].source.platform).toBe('linux/arm64');
    Template.fromStack(armStack).hasResourceProperties('AWS::ECS::TaskDefinition', {
      RuntimePlatform: Match.objectLike({ CpuArchitecture: 'ARM64' }),
    });
  });

  it('leaves the task count to Application Auto Scaling: no DesiredCount in the template', () => {
    const services = Object.values(template.findResources('AWS::ECS::Service'));
    expect(services).toHaveLength(1);
    expect(services[0].Properties.DesiredCount).toBeUndefined();
  });

  it('scales on the workers’ own load metric and on the tasks missing for waiting units', () => {
    const step = Object.values(template.findResources('AWS::ApplicationAutoScaling::ScalingPolicy')).find(
      (p) =>
        (p as Cfn).Properties.PolicyType === 'StepScaling' &&
        JSON.stringify(p).includes('"ScalingAdjustment":148'),
    ) as Cfn;
    expect(step.Properties.StepScalingPolicyConfiguration.AdjustmentType).toBe('ChangeInCapacity');
    // A shortfall is added in one step: exactly up to 6 tasks, at least 80% beyond (the alarm's
    // threshold is the first lower bound, so the step bounds are offsets from it).
    const steps = step.Properties.StepScalingPolicyConfiguration.StepAdjustments as Array<{
      MetricIntervalLowerBound?: number;
      MetricIntervalUpperBound?: number;
      ScalingAdjustment: number;
    }>;
    expect(steps.length).toBeLessThanOrEqual(20);
    for (const shortfall of [1, 2, 6, 7, 30, 100, 148]) {
      const offset = shortfall - 1;
      const match = steps.find(
        (s) =>
          (s.MetricIntervalLowerBound ?? -Infinity) <= offset &&
          offset < (s.MetricIntervalUpperBound ?? Infinity),
      );
      expect(match, String(shortfall)).toBeDefined();
      const added = match!.ScalingAdjustment;
      if (shortfall <= 6) expect(added).toBe(shortfall);
      else expect(added / shortfall).toBeGreaterThanOrEqual(0.8);
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'TasksShort',
      Dimensions: [{ Name: 'ServiceName', Value: 'Streamqc' }],
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 1,
      MaxCapacity: 12,
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        TargetValue: 0.7,
        CustomizedMetricSpecification: Match.objectLike({
          MetricName: 'LoadRatio',
          Namespace: 'streamqc',
          Dimensions: [{ Name: 'ServiceName', Value: 'Streamqc' }],
        }),
      }),
    });
  });

  it('gives the task role only the DynamoDB item actions it uses, SNS publish, the topic key, streamqc/ secrets and writes of pictures', () => {
    const granted = new Set(actions(statementsOf('WorkerTaskTaskRoleDefaultPolicy')));

    for (const action of granted)
      expect(action).toMatch(
        /^(dynamodb:(GetItem|BatchGetItem|PutItem|UpdateItem|DeleteItem|Query)|sns:Publish|kms:(Decrypt|GenerateDataKey\*)|secretsmanager:(GetSecretValue|DescribeSecret)|s3:PutObject)$/,
      );
    const secrets = statementsOf('WorkerTaskTaskRoleDefaultPolicy').find((s) =>
      actions([s]).includes('secretsmanager:GetSecretValue'),
    );
    expect(JSON.stringify(secrets?.Resource)).toMatch(/:secret:streamqc\/\*"/);
    expect(granted).toContain('sns:Publish');
    expect(granted).not.toContain('dynamodb:Scan');
    const pictures = statementsOf('WorkerTaskTaskRoleDefaultPolicy').find((s) =>
      actions([s]).includes('s3:PutObject'),
    );
    expect(JSON.stringify(pictures?.Resource)).toMatch(/MediaBucket.*\/streams\/\*"/);
  });

  it('keeps thumbnails and evidence in a private, encrypted, TLS-only bucket whose objects expire', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ ExpirationInDays: 30, Status: 'Enabled' })]),
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      }),
    });
  });

  it('runs tasks in public subnets with public IPs and no NAT gateway by default, with free gateway endpoints', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.hasResourceProperties('AWS::ECS::Service', {
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'ENABLED' }) },
    });
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroup')).flatMap(
      (g) => g.Properties.SecurityGroupIngress ?? [],
    );
    expect(ingress).toEqual([]);
    for (const service of ['dynamodb', 's3'])
      template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        VpcEndpointType: 'Gateway',
        ServiceName: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([`.${service}`])]) }),
      });
  });

  it('offers private subnets behind one NAT gateway per AZ, and interface endpoints, as options', () => {
    const natApp = new App({ context: { network: 'nat', interfaceEndpoints: 'true' } });
    const natStack = new StreamqcStack(natApp, 'Nat', { params: stackParams(natApp.node), repoRoot: ROOT });
    const nat = Template.fromStack(natStack);

    nat.resourceCountIs('AWS::EC2::NatGateway', 2);
    nat.hasResourceProperties('AWS::ECS::Service', {
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }) },
    });
    expect(
      Object.keys(
        nat.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Interface' } }),
      ).length,
    ).toBe(6); // ECR API, ECR Docker, Logs, SNS, ECS, Secrets Manager
  });
});

describe('dispatcher', () => {
  it('is a Node.js 24 Lambda behind an HTTP API that requires IAM on every route but /health', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
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
      'GET /streams/{id}/thumbnail': 'AWS_IAM',
      'GET /streams/{id}/evidence/{file}': 'AWS_IAM',
      'GET /streams/{id}/loudness': 'AWS_IAM',
      'GET /console': 'NONE',
      'GET /console/{file}': 'NONE',
      'GET /health': 'NONE',
    });
    // The same routes as the handler's own table (dispatcher/routes.ts): none missing on AWS.
    const handled = Object.fromEntries(
      ROUTES.flatMap((r) =>
        Object.keys(r.methods).map((m) => [`${m} ${r.path}`, r.auth ? 'AWS_IAM' : 'NONE']),
      ),
    );
    expect(byKey).toEqual(handled);
  });

  it("opens the console's data routes to browsers only with an OpenID Connect issuer and audience", () => {
    const issuer = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf';
    const jwtApp = new App({ context: { consoleJwtIssuer: issuer, consoleJwtAudience: 'client-1' } });
    const jwt = Template.fromStack(
      new StreamqcStack(jwtApp, 'Jwt', { params: stackParams(jwtApp.node), repoRoot: ROOT }),
    );
    jwt.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'GET /console/api/{proxy+}',
      AuthorizationType: 'JWT',
    });
    jwt.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: { Issuer: issuer, Audience: ['client-1'] },
    });
    // Without them, no such route: the default stack's routes above are all there is.
    expect(Object.keys(template.findResources('AWS::ApiGatewayV2::Authorizer'))).toEqual([]);
  });

  it('throttles the API and writes access logs', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
    });
  });

  it('may only read the worker service in ECS: autoscaling owns the count', () => {
    const ecs = statementsOf('DispatcherServiceRoleDefaultPolicy').filter((s) =>
      actions([s]).some((a) => a.startsWith('ecs:')),
    );

    expect(ecs).toHaveLength(1);
    expect(actions(ecs)).toEqual(['ecs:DescribeServices']);
    expect(ecs[0].Resource).toEqual({ Ref: expect.stringMatching(/^Workers/) });
  });
});

describe('operations', () => {
  const alarms = () =>
    Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties as Cfn);
  const metricNames = (a: Cfn): string[] =>
    a.MetricName
      ? [a.MetricName]
      : (a.Metrics ?? []).flatMap((q: Cfn) => (q.MetricStat ? [q.MetricStat.Metric.MetricName] : []));

  it('alarms on every backlog and failure path, to the operations topic', () => {
    const own = alarms().filter(
      (a) => (a.AlarmActions ?? []).length > 0 && !a.AlarmDescription?.startsWith('Upper'),
    );
    const watched = new Set(own.flatMap(metricNames));

    expect(own.length).toBeGreaterThanOrEqual(8);
    // Whoever was paged also hears when it is over.
    for (const a of own) expect(a.OKActions, a.AlarmDescription).toEqual(a.AlarmActions);
    for (const metric of [
      'UnitsWaiting',
      'MaxLagSeconds',
      'Heartbeats',
      'OutboxOldestSeconds',
      'OutboxDepth',
      'DeadLettersStored',
      'DeliveryFailures',
      'ReadThrottleEvents',
      'WriteThrottleEvents',
      'RunningTaskCount',
      'DesiredTaskCount',
      'UnitsNotRunning',
      'ApproximateNumberOfMessagesVisible',
      'Errors',
      'Throttles',
      '5xx',
    ])
      expect(watched).toContain(metric);
    // Failures of calls are rates, not single events: one error in five minutes pages nobody.
    for (const prefix of ['Over 5% of dispatcher invocations', 'Over 5% of API requests']) {
      const rateAlarm = own.find((x) => x.AlarmDescription?.startsWith(prefix)) as Cfn;
      expect(rateAlarm, prefix).toBeDefined();
      expect(rateAlarm).toMatchObject({ Threshold: 5, EvaluationPeriods: 3, DatapointsToAlarm: 2 });
      expect(JSON.stringify(rateAlarm.Metrics)).toContain('100 * failed / MAX([all, 1])');
    }
    // The fleet check runs once a minute (waiting units, outbox backlog, tasks short).
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)' });
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('rolls a deployment back on the circuit breaker or when half the units stop monitoring', () => {
    const service = Object.values(template.findResources('AWS::ECS::Service'))[0] as Cfn;
    const config = service.Properties.DeploymentConfiguration;
    const notRunning = Object.entries(template.findResources('AWS::CloudWatch::Alarm')).find(([id]) =>
      id.includes('UnitsNotRunning'),
    );

    expect(config.DeploymentCircuitBreaker).toEqual({ Enable: true, Rollback: true });
    expect(notRunning).toBeDefined();
    expect(config.Alarms).toEqual({
      AlarmNames: [{ Ref: notRunning![0] }],
      Enable: true,
      Rollback: true,
    });
    expect(JSON.stringify(notRunning![1])).toContain('UnitsNotRunning');
  });

  it("names this stack in every streamqc metric's dimension, so stacks never share one", () => {
    const ours = alarms().filter((a) => a.Namespace === 'streamqc');
    expect(ours.length).toBeGreaterThan(5);
    for (const a of ours) expect(a.Dimensions).toEqual([{ Name: 'ServiceName', Value: 'Streamqc' }]);
  });
});

describe('hygiene', () => {
  it('tags everything with the project and the environment', () => {
    template.hasResourceProperties('AWS::ECS::Cluster', {
      Tags: Match.arrayWith([
        { Key: 'environment', Value: 'default' },
        { Key: 'project', Value: 'streamqc' },
      ]),
    });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      Tags: Match.arrayWith([{ Key: 'project', Value: 'streamqc' }]),
    });
  });

  it('puts the stack tags on every running task', () => {
    template.hasResourceProperties('AWS::ECS::Service', {
      PropagateTags: 'SERVICE',
      EnableECSManagedTags: true,
    });
  });

  it('keeps every log group the same, configurable, number of days', () => {
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    expect(groups.length).toBeGreaterThanOrEqual(4);
    for (const g of groups) expect(g.Properties.RetentionInDays).toBe(30);
  });

  it('lets AWS services use the topic key only for this account and its own sources', () => {
    const topicKey = Object.entries(template.findResources('AWS::KMS::Key')).find(([id]) =>
      id.startsWith('TopicKey'),
    )!;
    const forServices = (topicKey[1].Properties.KeyPolicy.Statement as Array<Cfn>).filter(
      (st) => st.Principal?.Service,
    );
    expect(forServices.map((st) => st.Principal.Service)).toEqual(['cloudwatch.amazonaws.com']);
    for (const st of forServices) {
      expect(st.Condition.StringEquals['aws:SourceAccount']).toBeDefined();
      expect(st.Condition.ArnLike['aws:SourceArn']).toBeDefined();
    }
  });

  it('takes an environment block (account, region, values) from cdk.json with -c env=NAME', () => {
    const envApp = new App({
      context: {
        env: 'prod',
        streamBudget: 6,
        environments: {
          prod: { account: '111122223333', region: 'eu-west-1', streamBudget: 8, network: 'nat' },
        },
      },
    });
    const params = stackParams(envApp.node);

    expect(params).toMatchObject({
      environment: 'prod',
      account: '111122223333',
      region: 'eu-west-1',
      streamBudget: 8,
      network: 'nat',
    });
    expect(() => stackParams(new App({ context: { env: 'nope' } }).node)).toThrow(/no such block/);
  });
});

describe('cdk-nag AwsSolutions', () => {
  it.each([
    { interfaceEndpoints: 'true' },
    { network: 'nat' },
    { network: 'nat', interfaceEndpoints: 'true' },
  ])('reports no unacknowledged finding with the network option %o', (context) => {
    const optionApp = new App({ context });
    const optionStack = new StreamqcStack(optionApp, 'Option', {
      params: stackParams(optionApp.node),
      repoRoot: ROOT,
    });
    addNagSuppressions(optionStack);
    const report = new AwsSolutionsChecks(optionApp).validateScope(optionStack);

    expect(
      report.violations.map(
        (v) => `${v.ruleName} @ ${v.violatingResources.map((r) => r.constructPath).join(',')}`,
      ),
    ).toEqual([]);
  });

  it('acknowledges only findings the pack really raises (none left over from older code)', () => {
    const bareApp = new App({
      context: { alertEmail: 'oncall@example.com', alertQueue: 'true', maxTasks: 12 },
    });
    const bare = new StreamqcStack(bareApp, 'Streamqc', {
      params: stackParams(bareApp.node),
      repoRoot: ROOT,
    });
    const raised = new AwsSolutionsChecks(bareApp)
      .validateScope(bare)
      .violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} @ ${r.constructPath}`));

    for (const { path, id } of acknowledgements(bare))
      expect(
        raised.some((f) => f.startsWith(`${id} @ Streamqc/Default/${path}`)),
        `${id} on ${path}`,
      ).toBe(true);
  });

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

describe('the Streamqc construct in a stack of another team', () => {
  it('uses their VPC and defect topic, takes table options, and passes cdk-nag with the same acknowledgements', () => {
    const teamApp = new App();
    const team = new Stack(teamApp, 'MediaOps', { env: { account: '111122223333', region: 'eu-west-1' } });
    const vpc = new ec2.Vpc(team, 'SharedVpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'pub', subnetType: ec2.SubnetType.PUBLIC }],
    });
    const topic = new sns.Topic(team, 'TeamDefects', {
      enforceSSL: true,
      masterKey: new kms.Key(team, 'TeamKey', { enableKeyRotation: true }),
    });

    const streamqc = new Streamqc(team, 'Monitor', {
      params: { maxTasks: 40, streamBudget: 10, alertEmail: 'oncall@example.com' },
      repoRoot: ROOT,
      vpc,
      defectTopic: topic,
      tables: { destroy: true },
    });
    addNagSuppressions(streamqc);
    const report = new AwsSolutionsChecks(teamApp).validateScope(team);
    const t = Template.fromStack(team);

    // (Their own VPC's findings are theirs.)
    expect(
      report.violations
        .flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} @ ${r.constructPath}`))
        .filter((f) => f.includes('MediaOps/Monitor/')),
    ).toEqual([]);
    // Their VPC only, and their topic only (the ops topic is the construct's own).
    t.resourceCountIs('AWS::EC2::VPC', 1);
    t.resourceCountIs('AWS::SNS::Topic', 2);
    const env = t.findResources('AWS::ECS::TaskDefinition');
    const variables = Object.values(env)[0].Properties.ContainerDefinitions[0].Environment as {
      Name: string;
      Value: unknown;
    }[];
    expect(JSON.stringify(variables.find((v) => v.Name === 'STREAMQC_SNS_TOPIC_ARN')?.Value)).toContain(
      team.getLogicalId(topic.node.defaultChild as CfnElement),
    );
    expect(variables.find((v) => v.Name === 'STREAMQC_STREAM_BUDGET')?.Value).toBe('10');
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MaxCapacity: 40 });
    // destroy: development tables go with the stack.
    for (const table of Object.values(t.findResources('AWS::DynamoDB::Table')))
      expect(table.DeletionPolicy).toBe('Delete');
    expect(streamqc.taskRole).toBeDefined();
  });
});
