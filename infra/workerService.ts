/**
 * The workers: a Fargate service of the image built from worker/Dockerfile, its task role (the
 * registry tables, the defect topic, secrets under streamqc/), and Application Auto Scaling as the
 * one owner of the task count.
 */
import { ArnFormat, AssetHashType, Duration, IgnoreMode, type Stack } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { TableName } from '../shared/registry/tables.js';
import { SECRET_NAME_PREFIX } from '../shared/secretRefs.js';
import type { StackParams } from './config.js';
import { workerImageHash } from './imageHash.js';
import type { WorkerNetwork } from './network.js';
import { METRIC_NAMESPACE, stackMetric } from './operations.js';
import { grantTables, WORKER_TABLE_ACTIONS } from './registryTables.js';

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

export interface WorkerServiceOptions {
  stack: Stack;
  params: StackParams;
  repoRoot: string;
  retention: logs.RetentionDays;
  network: WorkerNetwork;
  cluster: ecs.Cluster;
  tables: Record<TableName, dynamodb.Table>;
  tableEnv: Record<string, string>;
  topic: sns.ITopic;
  mediaBucket: s3.IBucket;
}

/** The worker service in `scope` (ids as the construct has always had them). */
export function addWorkerService(
  scope: Construct,
  {
    stack,
    params,
    repoRoot,
    retention,
    network,
    cluster,
    tables,
    tableEnv,
    topic,
    mediaBucket,
  }: WorkerServiceOptions,
): { service: ecs.FargateService; taskRole: iam.IRole } {
  // Each task knows its own (the task metadata endpoint); no ARN needs passing here.
  const arm = params.cpuArchitecture === 'arm64';
  const taskDefinition = new ecs.FargateTaskDefinition(scope, 'WorkerTask', {
    cpu: params.taskCpu,
    memoryLimitMiB: params.taskMemoryMiB,
    runtimePlatform: {
      cpuArchitecture: arm ? ecs.CpuArchitecture.ARM64 : ecs.CpuArchitecture.X86_64,
      operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
    },
  });
  const workerLogs = new logs.LogGroup(scope, 'WorkerLogs', { retention });
  taskDefinition.addContainer('worker', {
    // Built for the task's architecture, from the worker's own files only.
    image: workerImage(repoRoot, arm),
    logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'worker', logGroup: workerLogs }),
    stopTimeout: Duration.seconds(STOP_TIMEOUT_SECONDS),
    readonlyRootFilesystem: false,
    environment: {
      ...tableEnv,
      STREAMQC_SNS_TOPIC_ARN: topic.topicArn,
      STREAMQC_STREAM_BUDGET: String(params.streamBudget),
      STREAMQC_HEARTBEAT_SECONDS: String(params.heartbeatSeconds),
      STREAMQC_LEASE_SECONDS: String(params.leaseSeconds),
      STREAMQC_METRICS_PORT: '9090',
      STREAMQC_EMF_NAMESPACE: METRIC_NAMESPACE,
      STREAMQC_METRIC_SERVICE: stack.stackName,
      STREAMQC_CONSOLE: '0',
      STREAMQC_MEDIA_BUCKET: mediaBucket.bucketName,
      STREAMQC_THUMBNAIL_SECONDS: String(params.thumbnailSeconds),
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
  grantTables(tables, taskDefinition.taskRole, WORKER_TABLE_ACTIONS);
  topic.grantPublish(taskDefinition.taskRole);
  // Thumbnails and evidence: writes under streams/ only; no read, list or delete.
  taskDefinition.taskRole.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['s3:PutObject'],
      resources: [mediaBucket.arnForObjects('streams/*')],
    }),
  );
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

  const workerSecurity = new ec2.SecurityGroup(scope, 'WorkerSecurity', {
    vpc: network.vpc,
    description: 'streamqc workers: no inbound; outbound to stream sources and AWS APIs',
    allowAllOutbound: true,
  });
  network.allowFrom(workerSecurity);
  // No desiredCount: Application Auto Scaling owns the count, and a deploy must not reset it.
  const service = new ecs.FargateService(scope, 'Workers', {
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
  const scaling = service.autoScaleTaskCount({
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
  return { service, taskRole: taskDefinition.taskRole };
}
