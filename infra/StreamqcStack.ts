/**
 * The AWS deployment: Fargate workers built from worker/Dockerfile, the dispatcher Lambda behind
 * an IAM-authorised HTTP API, the registry's DynamoDB tables, the KMS-encrypted defect topic,
 * scaling on the workers' own load metric, alarms and a dashboard. Each role gets only the
 * actions it uses on only the resources it uses.
 */
import { join } from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  HttpStage,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import {
  TABLE_DEFINITIONS,
  TABLE_NAMES,
  type TableName,
  TTL_ATTRIBUTE,
  TTL_TABLES,
} from '../shared/registry/tables.js';
import type { StackParams } from './config.js';

/** CloudWatch namespace of the metrics workers publish (embedded metric format in their logs). */
export const METRIC_NAMESPACE = 'streamqc';
/** Seconds ECS waits after SIGTERM: the worker drains in 25 s. */
export const STOP_TIMEOUT_SECONDS = 30;

export interface StreamqcStackProps extends StackProps {
  params: StackParams;
  /** Folder with the repository (Docker build context). */
  repoRoot: string;
}

type AttributeType = 'S' | 'N' | 'B';
const ATTRIBUTE: Record<AttributeType, dynamodb.AttributeType> = {
  S: dynamodb.AttributeType.STRING,
  N: dynamodb.AttributeType.NUMBER,
  B: dynamodb.AttributeType.BINARY,
};

export class StreamqcStack extends Stack {
  readonly tables: Record<TableName, dynamodb.Table>;
  readonly topic: sns.Topic;
  readonly api: HttpApi;
  readonly service: ecs.FargateService;
  readonly dispatcher: NodejsFunction;

  constructor(scope: Construct, id: string, props: StreamqcStackProps) {
    super(scope, id, props);
    const { params } = props;

    // ---- network and cluster ----------------------------------------------------------------
    const vpc = params.vpcId
      ? ec2.Vpc.fromLookup(this, 'Vpc', { vpcId: params.vpcId })
      : new ec2.Vpc(this, 'Vpc', {
          maxAzs: 2,
          natGateways: 1,
          subnetConfiguration: [
            { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
            { name: 'workers', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
          ],
          flowLogs: { all: { trafficType: ec2.FlowLogTrafficType.REJECT } },
        });
    const cluster = new ecs.Cluster(this, 'Cluster', {
      vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });

    // ---- registry ---------------------------------------------------------------------------
    this.tables = Object.fromEntries(TABLE_NAMES.map((name) => [name, this.table(name)])) as Record<
      TableName,
      dynamodb.Table
    >;
    const tableEnv = Object.fromEntries(
      TABLE_NAMES.map((name) => [`STREAMQC_TABLE_${name.toUpperCase()}`, this.tables[name].tableName]),
    );

    // ---- defect topic -----------------------------------------------------------------------
    const topicKey = new kms.Key(this, 'TopicKey', {
      enableKeyRotation: true,
      description: 'streamqc defect topic',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.topic = new sns.Topic(this, 'DefectTopic', {
      displayName: 'streamqc defects',
      masterKey: topicKey,
      enforceSSL: true,
    });
    if (params.alertEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(params.alertEmail));
    if (params.alertQueue) {
      const queueKey = new kms.Key(this, 'AlertQueueKey', {
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      const deadLetters = new sqs.Queue(this, 'AlertDeadLetters', {
        encryptionMasterKey: queueKey,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      const queue = new sqs.Queue(this, 'AlertQueue', {
        encryptionMasterKey: queueKey,
        enforceSSL: true,
        deadLetterQueue: { queue: deadLetters, maxReceiveCount: 5 },
      });
      // SNS must be able to use the queue's key to deliver.
      queueKey.grantEncryptDecrypt(new iam.ServicePrincipal('sns.amazonaws.com'));
      this.topic.addSubscription(new subscriptions.SqsSubscription(queue, { rawMessageDelivery: true }));
      new CfnOutput(this, 'AlertQueueUrl', { value: queue.queueUrl });
    }
    // SNS itself encrypts with the key on publish from the workers' role (grantPublish adds it).
    topicKey.grant(new iam.ServicePrincipal('sns.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');

    // ---- workers (ECS on Fargate) -----------------------------------------------------------
    const taskDefinition = new ecs.FargateTaskDefinition(this, 'WorkerTask', {
      cpu: params.taskCpu,
      memoryLimitMiB: params.taskMemoryMiB,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.X86_64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    const workerLogs = new logs.LogGroup(this, 'WorkerLogs', { retention: logs.RetentionDays.ONE_MONTH });
    taskDefinition.addContainer('worker', {
      image: ecs.ContainerImage.fromAsset(props.repoRoot, { file: 'worker/Dockerfile' }),
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'worker', logGroup: workerLogs }),
      stopTimeout: Duration.seconds(STOP_TIMEOUT_SECONDS),
      readonlyRootFilesystem: false,
      environment: {
        ...tableEnv,
        STREAMQC_SNS_TOPIC_ARN: this.topic.topicArn,
        STREAMQC_STREAM_BUDGET: String(params.streamBudget),
        STREAMQC_HEARTBEAT_SECONDS: String(params.heartbeatSeconds),
        STREAMQC_LEASE_SECONDS: String(params.leaseSeconds),
        STREAMQC_METRICS_PORT: '9090',
        STREAMQC_EMF_NAMESPACE: METRIC_NAMESPACE,
        STREAMQC_CONSOLE: '0',
        NODE_OPTIONS: '--enable-source-maps',
      },
      healthCheck: {
        command: [
          'CMD',
          'node',
          '-e',
          "fetch('http://127.0.0.1:9090/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))",
        ],
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(30),
      },
    });
    for (const name of ['units', 'workers', 'health', 'events', 'alarms', 'outbox'] as const) {
      this.tables[name].grantReadWriteData(taskDefinition.taskRole);
    }
    this.tables.streams.grantReadData(taskDefinition.taskRole);
    this.topic.grantPublish(taskDefinition.taskRole);
    // Scale-in protection through the ECS agent endpoint acts with the task role, on its own task.
    taskDefinition.taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ecs:UpdateTaskProtection', 'ecs:GetTaskProtection'],
        resources: [`arn:${this.partition}:ecs:${this.region}:${this.account}:task/${cluster.clusterName}/*`],
      }),
    );

    const workerSecurity = new ec2.SecurityGroup(this, 'WorkerSecurity', {
      vpc,
      description: 'streamqc workers: no inbound; outbound to stream sources and AWS APIs',
      allowAllOutbound: true,
    });
    this.service = new ecs.FargateService(this, 'Workers', {
      cluster,
      taskDefinition,
      desiredCount: params.minTasks,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      securityGroups: [workerSecurity],
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      assignPublicIp: false,
    });

    // The autoscaler owns the task count (see README: scaling); target: 70% of the stream budget.
    const loadRatio = new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName: 'LoadRatio',
      dimensionsMap: { ServiceName: 'workers' },
      statistic: 'Average',
      period: Duration.minutes(1),
    });
    const scaling = this.service.autoScaleTaskCount({
      minCapacity: params.minTasks,
      maxCapacity: params.maxTasks,
    });
    scaling.scaleToTrackCustomMetric('LoadTracking', {
      metric: loadRatio,
      targetValue: 0.7,
      scaleOutCooldown: Duration.minutes(1),
      scaleInCooldown: Duration.minutes(15),
    });

    // ---- dispatcher (Lambda behind the HTTP API) -------------------------------------------
    const dispatcherLogs = new logs.LogGroup(this, 'DispatcherLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
    });
    this.dispatcher = new NodejsFunction(this, 'Dispatcher', {
      entry: join(props.repoRoot, 'dispatcher', 'lambda.ts'),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 512,
      timeout: Duration.seconds(15),
      logGroup: dispatcherLogs,
      tracing: lambda.Tracing.ACTIVE,
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        minify: true,
        sourceMap: true,
        forceDockerBundling: false,
        banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
      },
      environment: {
        ...tableEnv,
        STREAMQC_ECS_CLUSTER: cluster.clusterName,
        STREAMQC_ECS_SERVICE: this.service.serviceName,
        STREAMQC_STREAM_BUDGET: String(params.streamBudget),
        STREAMQC_EMF_NAMESPACE: METRIC_NAMESPACE,
        STREAMQC_MIN_WORKERS: String(params.minTasks),
        STREAMQC_MAX_WORKERS: String(params.maxTasks),
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
    for (const name of ['streams', 'units', 'idempotency', 'events', 'alarms', 'outbox'] as const) {
      this.tables[name].grantReadWriteData(this.dispatcher);
    }
    this.tables.workers.grantReadData(this.dispatcher);
    this.tables.health.grantReadData(this.dispatcher);
    // The fleet check: units waiting for a worker, as a metric, and capacity for them.
    new events.Rule(this, 'FleetCheck', {
      description: 'streamqc fleet check: units waiting for a worker',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new eventTargets.LambdaFunction(this.dispatcher)],
    });
    this.dispatcher.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ecs:DescribeServices', 'ecs:UpdateService'],
        resources: [this.service.serviceArn],
      }),
    );

    const apiLogs = new logs.LogGroup(this, 'ApiAccessLogs', { retention: logs.RetentionDays.ONE_MONTH });
    this.api = new HttpApi(this, 'Api', {
      description: 'streamqc stream registration API',
      createDefaultStage: false,
      defaultAuthorizer: new HttpIamAuthorizer(),
    });
    const integration = new HttpLambdaIntegration('DispatcherIntegration', this.dispatcher);
    this.api.addRoutes({ path: '/streams', methods: [HttpMethod.GET, HttpMethod.POST], integration });
    this.api.addRoutes({ path: '/streams/{id}', methods: [HttpMethod.GET, HttpMethod.DELETE], integration });
    this.api.addRoutes({ path: '/streams/{id}/defects', methods: [HttpMethod.GET], integration });
    this.api.addRoutes({
      path: '/health',
      methods: [HttpMethod.GET],
      integration,
      authorizer: new HttpNoneAuthorizer(),
    });
    const stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: params.apiRateLimit, burstLimit: params.apiBurstLimit },
      accessLogSettings: {
        destination: new LogGroupLogDestination(apiLogs),
        format: AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
      },
    });

    // ---- alarms and dashboard ---------------------------------------------------------------
    // Operational alarms go to their own topic: defect consumers should not get CloudWatch's format.
    const opsTopic = new sns.Topic(this, 'OpsTopic', {
      displayName: 'streamqc operations',
      masterKey: topicKey,
      enforceSSL: true,
    });
    topicKey.grant(
      new iam.ServicePrincipal('cloudwatch.amazonaws.com'),
      'kms:Decrypt',
      'kms:GenerateDataKey*',
    );
    if (params.alertEmail) opsTopic.addSubscription(new subscriptions.EmailSubscription(params.alertEmail));
    const lag = new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName: 'MaxLagSeconds',
      dimensionsMap: { ServiceName: 'workers' },
      statistic: 'Maximum',
      period: Duration.minutes(1),
    });
    const heartbeats = new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName: 'Heartbeats',
      dimensionsMap: { ServiceName: 'workers' },
      statistic: 'SampleCount',
      period: Duration.minutes(1),
    });
    const unitsWaiting = new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName: 'UnitsWaiting',
      dimensionsMap: { ServiceName: 'workers' },
      statistic: 'Minimum',
      period: Duration.minutes(1),
    });
    const alarms = [
      new cloudwatch.Alarm(this, 'UnitsWaitingForWorkers', {
        alarmDescription: 'Work units have waited for a worker with room for 5 minutes (fleet at maxTasks?)',
        metric: unitsWaiting,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 5,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'WorkersBehind', {
        alarmDescription: 'A worker processes a stream more than 10 s behind the live edge',
        metric: lag,
        threshold: 10,
        evaluationPeriods: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'WorkerHeartbeatsMissing', {
        alarmDescription: 'No worker reported in for 3 minutes',
        metric: heartbeats,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 3,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      }),
      new cloudwatch.Alarm(this, 'DispatcherErrors', {
        alarmDescription: 'The dispatcher Lambda failed',
        metric: this.dispatcher.metricErrors({ period: Duration.minutes(5) }),
        threshold: 1,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'Api5xx', {
        alarmDescription: 'The API answered with server errors',
        metric: this.api.metricServerError({ period: Duration.minutes(5) }),
        threshold: 1,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    ];
    for (const alarm of alarms) alarm.addAlarmAction(new cloudwatchActions.SnsAction(opsTopic));
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${this.stackName}-streamqc`,
    });
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Worker load (streams / budget)', left: [loadRatio] }),
      new cloudwatch.GraphWidget({ title: 'Max lag behind live edge (s)', left: [lag] }),
      new cloudwatch.GraphWidget({ title: 'Units waiting for a worker', left: [unitsWaiting] }),
      new cloudwatch.GraphWidget({
        title: 'Tasks',
        left: [this.service.metricCpuUtilization(), this.service.metricMemoryUtilization()],
      }),
      new cloudwatch.GraphWidget({
        title: 'API',
        left: [this.api.metricCount(), this.api.metricClientError(), this.api.metricServerError()],
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms }),
    );

    new CfnOutput(this, 'ApiUrl', { value: stage.url, description: 'streamqc API (IAM-signed requests)' });
    new CfnOutput(this, 'DefectTopicArn', {
      value: this.topic.topicArn,
      description: 'subscribe alert consumers here',
    });
    new CfnOutput(this, 'WorkerService', { value: this.service.serviceName });
    new CfnOutput(this, 'OpsTopicArn', {
      value: opsTopic.topicArn,
      description: 'CloudWatch alarms of streamqc itself',
    });
  }

  private table(name: TableName): dynamodb.Table {
    const definition = TABLE_DEFINITIONS[name];
    const types = new Map(
      definition.AttributeDefinitions!.map((a) => [a.AttributeName!, a.AttributeType as AttributeType]),
    );
    const key = (role: 'HASH' | 'RANGE', schema = definition.KeySchema!) => {
      const k = schema.find((s) => s.KeyType === role);
      return k ? { name: k.AttributeName!, type: ATTRIBUTE[types.get(k.AttributeName!)!] } : undefined;
    };
    const table = new dynamodb.Table(this, `${name[0].toUpperCase()}${name.slice(1)}Table`, {
      partitionKey: key('HASH')!,
      sortKey: key('RANGE'),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: TTL_TABLES.includes(name) ? TTL_ATTRIBUTE : undefined,
      removalPolicy: name === 'streams' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    for (const index of definition.GlobalSecondaryIndexes ?? []) {
      table.addGlobalSecondaryIndex({
        indexName: index.IndexName!,
        partitionKey: key('HASH', index.KeySchema)!,
        sortKey: key('RANGE', index.KeySchema),
        projectionType: dynamodb.ProjectionType[index.Projection!.ProjectionType!],
      });
    }
    return table;
  }
}
