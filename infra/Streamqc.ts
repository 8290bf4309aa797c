/**
 * The AWS deployment: Fargate workers built from worker/Dockerfile, the dispatcher Lambda behind
 * an IAM-authorised HTTP API (and on a schedule, the fleet check), the registry's DynamoDB
 * tables, the KMS-encrypted defect topic, Application Auto Scaling as the one owner of the task
 * count, alarms on every backlog and a dashboard. Each role gets only the actions it uses on
 * only the resources it uses.
 */
import { join } from 'node:path';
import {
  ArnFormat,
  AssetHashType,
  CfnOutput,
  Duration,
  IgnoreMode,
  RemovalPolicy,
  Stack,
  Tags,
} from 'aws-cdk-lib';
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
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
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
import { Construct } from 'constructs';
import { projectRoot } from '../shared/projectRoot.js';
import {
  TABLE_DEFINITIONS,
  TABLE_NAMES,
  type TableName,
  TTL_ATTRIBUTE,
  TTL_TABLES,
} from '../shared/registry/tables.js';
import { SECRET_NAME_PREFIX } from '../shared/secretRefs.js';
import { defaultParams, type StackParams } from './config.js';
import { workerImageHash } from './imageHash.js';
import { WorkerNetwork } from './network.js';
import { METRIC_NAMESPACE, Operations, stackMetric } from './operations.js';

export { METRIC_NAMESPACE } from './operations.js';
/** Seconds ECS waits after SIGTERM: the worker drains in 25 s. */
export const STOP_TIMEOUT_SECONDS = 30;

/** What the worker image is built from: nothing else in the repository changes its hash. */
/**
 * The worker image: built for the task's architecture from the worker's own files only; its
 * identity is what ships, not the whole lockfile, so a devDependency bump does not roll the fleet
 * (infra/imageHash.ts).
 */
export function workerImage(repoRoot: string, arm: boolean): ecs.ContainerImage {
  return ecs.ContainerImage.fromAsset(repoRoot, {
    // AssetStaging reads these two (the image asset passes its props on); AssetImageProps does not
    // declare them.
    ...({ assetHashType: AssetHashType.CUSTOM, assetHash: workerImageHash(repoRoot) } as object),
    file: 'worker/Dockerfile',
    platform: arm ? Platform.LINUX_ARM64 : Platform.LINUX_AMD64,
    ignoreMode: IgnoreMode.DOCKER,
    exclude: ['*', ...WORKER_IMAGE_FILES.map((f) => `!${f}`), 'worker/**/*.md'],
  });
}

/**
 * Lower bounds of the scale-out steps on TasksShort; each step adds its own lower bound. A
 * shortfall of up to 6 is added exactly, any larger one at least 80% at once (the rest the next
 * minute); 20 steps, the most a step policy takes.
 */
export const SHORTFALL_STEPS = [1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 19, 24, 30, 38, 48, 60, 75, 94, 118, 148];

function shortfallSteps(): appscaling.ScalingInterval[] {
  return [
    { upper: 0, change: 0 },
    ...SHORTFALL_STEPS.slice(0, -1).map((lower, i) => ({
      lower,
      upper: SHORTFALL_STEPS[i + 1],
      change: lower,
    })),
    {
      lower: SHORTFALL_STEPS[SHORTFALL_STEPS.length - 1],
      change: SHORTFALL_STEPS[SHORTFALL_STEPS.length - 1],
    },
  ];
}

export const WORKER_IMAGE_FILES = [
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.worker.json',
  'shared',
  'worker',
];

/** What the tables of an embedding stack keep on delete (the default: see STATEFUL_TABLES). */
export interface TableOptions {
  /**
   * Every table goes with the stack (no deletion protection, DESTROY): development only. Default
   * false: the stateful tables are retained and deletion-protected.
   */
  destroy?: boolean;
  /** Point-in-time recovery on every table (default true). */
  pointInTimeRecovery?: boolean;
}

export interface StreamqcProps {
  /** Sizes, network layout, alerting, API limits: `defaultParams()` merged with these. */
  params?: Partial<StackParams>;
  /** Folder with the repository (the worker image's Docker build context). Default: this checkout. */
  repoRoot?: string;
  /** Run the workers in this VPC instead of creating one (`params.network` picks its subnets). */
  vpc?: ec2.IVpc;
  /**
   * Publish defects to this topic instead of creating one. When it is encrypted with a
   * customer-managed key, grant the workers' task role (`taskRole`) that key yourself.
   */
  defectTopic?: sns.ITopic;
  /** Table retention and recovery; overrides `params.destroyTables`. */
  tables?: TableOptions;
}

type AttributeType = 'S' | 'N' | 'B';
const ATTRIBUTE: Record<AttributeType, dynamodb.AttributeType> = {
  S: dynamodb.AttributeType.STRING,
  N: dynamodb.AttributeType.NUMBER,
  B: dynamodb.AttributeType.BINARY,
};

/** Tables whose loss unmonitors streams or loses alarms: retained, with deletion protection. */
export const STATEFUL_TABLES: TableName[] = ['streams', 'idempotency', 'units', 'events', 'alarms', 'outbox'];

/** DynamoDB actions each role needs per table: nothing broader. */
const WORKER_TABLE_ACTIONS: Partial<Record<TableName, string[]>> = {
  streams: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'],
  units: ['dynamodb:BatchGetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'],
  workers: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'],
  health: ['dynamodb:PutItem', 'dynamodb:BatchGetItem'],
  events: ['dynamodb:PutItem'],
  alarms: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
  outbox: [
    'dynamodb:PutItem',
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:Query',
  ],
};
const DISPATCHER_TABLE_ACTIONS: Partial<Record<TableName, string[]>> = {
  streams: [
    'dynamodb:PutItem',
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:UpdateItem',
    'dynamodb:Query',
  ],
  // UpdateItem: the per-owner registration counter (one item per owner and minute).
  idempotency: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
  units: ['dynamodb:BatchWriteItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
  workers: ['dynamodb:Query'],
  health: ['dynamodb:BatchGetItem'],
  events: ['dynamodb:PutItem', 'dynamodb:Query'],
  alarms: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
  outbox: ['dynamodb:PutItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
};

function retentionDays(days: number): logs.RetentionDays {
  const allowed = Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number');
  if (!allowed.includes(days))
    throw new Error(`context logRetentionDays must be one of ${allowed.join(', ')}`);
  return days as logs.RetentionDays;
}

/**
 * streamqc on AWS as one construct another team can put in its own stack: the workers (ECS on
 * Fargate) and their image, the registry's tables, the dispatcher (Lambda behind an IAM-authorized
 * HTTP API, and the scheduled fleet check), the defect topic, autoscaling, alarms and a dashboard.
 * `StreamqcStack` is this construct in a stack of its own (what `npx cdk deploy` deploys).
 */
export class Streamqc extends Construct {
  readonly tables: Record<TableName, dynamodb.Table>;
  readonly topic: sns.ITopic;
  readonly api: HttpApi;
  readonly service: ecs.FargateService;
  readonly dispatcher: NodejsFunction;
  readonly operations: Operations;
  /** The workers' role: grant it what a `defectTopic` of your own needs (its key). */
  readonly taskRole: iam.IRole;
  /** The CloudWatch alarms' topic (operations, not defects). */
  readonly opsTopic: sns.Topic;
  readonly apiUrl: string;

  constructor(scope: Construct, id: string, props: StreamqcProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    const params: StackParams = { ...defaultParams(), ...props.params };
    if (params.minTasks > params.maxTasks) throw new Error('params.minTasks must not exceed params.maxTasks');
    const repoRoot = props.repoRoot ?? projectRoot();
    const destroyTables = props.tables?.destroy ?? params.destroyTables;
    const retention = retentionDays(params.logRetentionDays);
    Tags.of(this).add('project', 'streamqc');
    Tags.of(this).add('environment', params.environment);

    // ---- network and cluster ----------------------------------------------------------------
    const network = new WorkerNetwork(this, 'Network', params, retention, props.vpc);
    const cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: network.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });

    // ---- registry ---------------------------------------------------------------------------
    this.tables = Object.fromEntries(
      TABLE_NAMES.map((name) => [
        name,
        this.table(name, destroyTables, props.tables?.pointInTimeRecovery ?? true),
      ]),
    ) as Record<TableName, dynamodb.Table>;
    const tableEnv = Object.fromEntries(
      TABLE_NAMES.map((name) => [`STREAMQC_TABLE_${name.toUpperCase()}`, this.tables[name].tableName]),
    );

    // ---- defect topic -----------------------------------------------------------------------
    const topicKey = new kms.Key(this, 'TopicKey', {
      enableKeyRotation: true,
      description: 'streamqc defect topic',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.topic =
      props.defectTopic ??
      new sns.Topic(this, 'DefectTopic', {
        displayName: 'streamqc defects',
        masterKey: topicKey,
        enforceSSL: true,
      });
    if (params.alertEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(params.alertEmail));
    let alertDeadLetters: sqs.Queue | undefined;
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
      alertDeadLetters = deadLetters;
      const queue = new sqs.Queue(this, 'AlertQueue', {
        encryptionMasterKey: queueKey,
        enforceSSL: true,
        deadLetterQueue: { queue: deadLetters, maxReceiveCount: 5 },
      });
      // SNS delivers into the queue with the queue's key, for this topic only.
      this.serviceMayUseKey(queueKey, 'sns.amazonaws.com', this.topic.topicArn);
      this.topic.addSubscription(new subscriptions.SqsSubscription(queue, { rawMessageDelivery: true }));
      new CfnOutput(this, 'AlertQueueUrl', { value: queue.queueUrl });
    }

    // ---- workers (ECS on Fargate) -----------------------------------------------------------
    // Each task knows its own (the task metadata endpoint); no ARN needs passing here.
    const arm = params.cpuArchitecture === 'arm64';
    const taskDefinition = new ecs.FargateTaskDefinition(this, 'WorkerTask', {
      cpu: params.taskCpu,
      memoryLimitMiB: params.taskMemoryMiB,
      runtimePlatform: {
        cpuArchitecture: arm ? ecs.CpuArchitecture.ARM64 : ecs.CpuArchitecture.X86_64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    const workerLogs = new logs.LogGroup(this, 'WorkerLogs', { retention });
    taskDefinition.addContainer('worker', {
      // Built for the task's architecture, from the worker's own files only.
      image: workerImage(repoRoot, arm),
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
        STREAMQC_METRIC_SERVICE: stack.stackName,
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
    this.taskRole = taskDefinition.taskRole;
    this.grantTables(taskDefinition.taskRole, WORKER_TABLE_ACTIONS);
    this.topic.grantPublish(taskDefinition.taskRole);
    // Secret references in stream URLs (`{{secret:streamqc/…}}`): only secrets under streamqc/,
    // and the worker uses one only for the owner its streamqc:owner tag names.
    taskDefinition.taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        resources: [
          stack.formatArn({
            service: 'secretsmanager',
            resource: 'secret',
            resourceName: `${SECRET_NAME_PREFIX}*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );

    const workerSecurity = new ec2.SecurityGroup(this, 'WorkerSecurity', {
      vpc: network.vpc,
      description: 'streamqc workers: no inbound; outbound to stream sources and AWS APIs',
      allowAllOutbound: true,
    });
    network.allowFrom(workerSecurity);
    // No desiredCount: Application Auto Scaling owns the count, and a deploy must not reset it.
    this.service = new ecs.FargateService(this, 'Workers', {
      cluster,
      taskDefinition,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      // Running tasks carry the stack's tags (cost allocation), and ECS's own.
      propagateTags: ecs.PropagatedTagSource.SERVICE,
      enableECSManagedTags: true,
      securityGroups: [workerSecurity],
      vpcSubnets: network.subnets,
      assignPublicIp: network.assignPublicIp,
    });
    const scaling = this.service.autoScaleTaskCount({
      minCapacity: params.minTasks,
      maxCapacity: params.maxTasks,
    });
    // Load: units per budget over the fleet, kept at 70%. Scale-in stops a task, which drains:
    // its units go back to waiting and the others claim them within a tick (docs/aws.md "Scaling").
    scaling.scaleToTrackCustomMetric('LoadTracking', {
      metric: stackMetric(stack, 'LoadRatio', 'Average'),
      targetValue: 0.7,
      scaleOutCooldown: Duration.minutes(1),
      scaleInCooldown: Duration.minutes(15),
    });
    // Waiting units: the fleet check reports the tasks still missing for them (TasksShort), and
    // one step adds about that many (SHORTFALL_STEPS), not +1/+3/+10 a minute.
    scaling.scaleOnMetric('WaitingUnits', {
      metric: stackMetric(stack, 'TasksShort', 'Maximum'),
      scalingSteps: shortfallSteps(),
      adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
      cooldown: Duration.minutes(1),
      evaluationPeriods: 1,
    });

    // ---- dispatcher (Lambda behind the HTTP API, and the scheduled fleet check) -------------
    const dispatcherLogs = new logs.LogGroup(this, 'DispatcherLogs', { retention });
    this.dispatcher = new NodejsFunction(this, 'Dispatcher', {
      entry: join(repoRoot, 'dispatcher', 'lambda.ts'),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 512,
      timeout: Duration.seconds(30),
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
        STREAMQC_METRIC_SERVICE: stack.stackName,
        STREAMQC_MIN_WORKERS: String(params.minTasks),
        STREAMQC_MAX_WORKERS: String(params.maxTasks),
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
    this.grantTables(this.dispatcher, DISPATCHER_TABLE_ACTIONS);
    // It reads the task counts for TasksShort; it never changes the service.
    this.dispatcher.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['ecs:DescribeServices'], resources: [this.service.serviceArn] }),
    );
    new events.Rule(this, 'FleetCheck', {
      description: 'streamqc fleet check: units waiting for a worker, the outbox backlog',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new eventTargets.LambdaFunction(this.dispatcher)],
    });

    const apiLogs = new logs.LogGroup(this, 'ApiAccessLogs', { retention });
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
    this.serviceMayUseKey(
      topicKey,
      'cloudwatch.amazonaws.com',
      `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:*`,
    );
    if (params.alertEmail) opsTopic.addSubscription(new subscriptions.EmailSubscription(params.alertEmail));
    this.opsTopic = opsTopic;
    this.operations = new Operations(this, 'Operations', {
      stack,
      opsTopic,
      tables: Object.values(this.tables),
      service: this.service,
      clusterName: cluster.clusterName,
      dispatcher: this.dispatcher,
      api: this.api,
      alertDeadLetters,
    });

    this.apiUrl = stage.url;
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

  /** Lets an AWS service use a key on behalf of one source in this account only (no confused deputy). */
  private serviceMayUseKey(key: kms.Key, service: string, sourceArn: string): void {
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal(service)],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
          ArnLike: { 'aws:SourceArn': sourceArn },
        },
      }),
    );
  }

  private grantTables(grantee: iam.IGrantable, actions: Partial<Record<TableName, string[]>>): void {
    for (const [name, list] of Object.entries(actions) as Array<[TableName, string[]]>)
      this.tables[name].grant(grantee, ...list);
  }

  private table(name: TableName, destroyTables: boolean, pointInTimeRecovery: boolean): dynamodb.Table {
    const definition = TABLE_DEFINITIONS[name];
    const keep = !destroyTables && STATEFUL_TABLES.includes(name);
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
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: pointInTimeRecovery },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: TTL_TABLES.includes(name) ? TTL_ATTRIBUTE : undefined,
      // What users registered and what was raised outlives the stack (a delete, a replacement);
      // heartbeats and health are rewritten within seconds by whoever runs next.
      ...(keep
        ? { deletionProtection: true, removalPolicy: RemovalPolicy.RETAIN }
        : { removalPolicy: RemovalPolicy.DESTROY }),
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
