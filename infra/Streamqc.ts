/**
 * The AWS deployment: Fargate workers built from worker/Dockerfile, the dispatcher Lambda behind
 * an IAM-authorised HTTP API (and on a schedule, the fleet check), the registry's DynamoDB
 * tables, the KMS-encrypted defect topic, Application Auto Scaling as the one owner of the task
 * count, alarms on every backlog and a dashboard. Each role gets only the actions it uses on
 * only the resources it uses. By concern: registryTables.ts, workerService.ts, dispatcherApi.ts,
 * network.ts, operations.ts.
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { projectRoot } from '../shared/projectRoot.js';
import { TABLE_NAMES, type TableName } from '../shared/registry/tables.js';
import { defaultParams, type StackParams } from './config.js';
import { addDispatcher } from './dispatcherApi.js';
import { WorkerNetwork } from './network.js';
import { Operations } from './operations.js';

import { registryTable } from './registryTables.js';
import { addWorkerService } from './workerService.js';

export { METRIC_NAMESPACE } from './operations.js';
export { STATEFUL_TABLES } from './registryTables.js';
export { SHORTFALL_STEPS, STOP_TIMEOUT_SECONDS, WORKER_IMAGE_FILES, workerImage } from './workerService.js';
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
  /** Thumbnails and alarm evidence (workers write; the dispatcher presigns reads). */
  readonly mediaBucket: s3.Bucket;
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
        registryTable(this, name, destroyTables, props.tables?.pointInTimeRecovery ?? true),
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

    // ---- media: thumbnails and alarm evidence ------------------------------------------------
    // Private, encrypted, TLS only; objects expire. Workers write, the dispatcher presigns reads.
    this.mediaBucket = new s3.Bucket(this, 'MediaBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {
          expiration: Duration.days(params.evidenceDays),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy: destroyTables ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });

    // ---- workers (ECS on Fargate) and the dispatcher ------------------------------------------
    const workers = addWorkerService(this, {
      stack,
      params,
      repoRoot,
      retention,
      network,
      cluster,
      tables: this.tables,
      tableEnv,
      topic: this.topic,
      mediaBucket: this.mediaBucket,
    });
    this.service = workers.service;
    this.taskRole = workers.taskRole;
    const { dispatcher, api, stage } = addDispatcher(this, {
      stack,
      params,
      repoRoot,
      retention,
      cluster,
      service: this.service,
      tables: this.tables,
      tableEnv,
      mediaBucket: this.mediaBucket,
    });
    this.dispatcher = dispatcher;
    this.api = api;

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
}
