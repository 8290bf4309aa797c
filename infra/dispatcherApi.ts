/**
 * The dispatcher: the Lambda behind the IAM-authorised HTTP API (the routes of
 * dispatcher/routes.ts; /health without authentication) and, every minute, the fleet check.
 */
import { join } from 'node:path';
import { Duration, type Stack } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  HttpStage,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { TableName } from '../shared/registry/tables.js';
import type { StackParams } from './config.js';
import { METRIC_NAMESPACE } from './operations.js';
import { DISPATCHER_TABLE_ACTIONS, grantTables } from './registryTables.js';

export interface DispatcherOptions {
  stack: Stack;
  params: StackParams;
  repoRoot: string;
  retention: logs.RetentionDays;
  cluster: ecs.Cluster;
  service: ecs.FargateService;
  tables: Record<TableName, dynamodb.Table>;
  tableEnv: Record<string, string>;
  mediaBucket: s3.IBucket;
}

/** The dispatcher and its API in `scope` (ids as the construct has always had them). */
export function addDispatcher(
  scope: Construct,
  { stack, params, repoRoot, retention, cluster, service, tables, tableEnv, mediaBucket }: DispatcherOptions,
): { dispatcher: NodejsFunction; api: HttpApi; stage: HttpStage } {
  const dispatcherLogs = new logs.LogGroup(scope, 'DispatcherLogs', { retention });
  const dispatcher = new NodejsFunction(scope, 'Dispatcher', {
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
      // The console's page, script and style sheet go into the bundle beside the handler.
      commandHooks: {
        beforeBundling: () => [],
        beforeInstall: () => [],
        afterBundling: (inputDir: string, outputDir: string) => [
          `mkdir -p "${outputDir}/console"`,
          `cp "${inputDir}/dispatcher/console/index.html" "${inputDir}/dispatcher/console/app.js" "${inputDir}/dispatcher/console/app.css" "${outputDir}/console/"`,
        ],
      },
    },
    environment: {
      ...tableEnv,
      STREAMQC_ECS_CLUSTER: cluster.clusterName,
      STREAMQC_ECS_SERVICE: service.serviceName,
      STREAMQC_STREAM_BUDGET: String(params.streamBudget),
      STREAMQC_EMF_NAMESPACE: METRIC_NAMESPACE,
      STREAMQC_METRIC_SERVICE: stack.stackName,
      STREAMQC_MIN_WORKERS: String(params.minTasks),
      STREAMQC_MAX_WORKERS: String(params.maxTasks),
      STREAMQC_MEDIA_BUCKET: mediaBucket.bucketName,
      STREAMQC_CONSOLE_DIR: '/var/task/console',
      NODE_OPTIONS: '--enable-source-maps',
    },
  });
  grantTables(tables, dispatcher, DISPATCHER_TABLE_ACTIONS);
  // Presigned links to pictures are signed with this role: it may read them, nothing more.
  dispatcher.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['s3:GetObject'],
      resources: [mediaBucket.arnForObjects('streams/*')],
    }),
  );
  // It reads the task counts for TasksShort; it never changes the service.
  dispatcher.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['ecs:DescribeServices'], resources: [service.serviceArn] }),
  );
  new events.Rule(scope, 'FleetCheck', {
    description: 'streamqc fleet check: units waiting for a worker, the outbox backlog',
    schedule: events.Schedule.rate(Duration.minutes(1)),
    targets: [new eventTargets.LambdaFunction(dispatcher)],
  });

  const apiLogs = new logs.LogGroup(scope, 'ApiAccessLogs', { retention });
  const api = new HttpApi(scope, 'Api', {
    description: 'streamqc stream registration API',
    createDefaultStage: false,
    defaultAuthorizer: new HttpIamAuthorizer(),
  });
  const integration = new HttpLambdaIntegration('DispatcherIntegration', dispatcher);
  api.addRoutes({ path: '/streams', methods: [HttpMethod.GET, HttpMethod.POST], integration });
  api.addRoutes({ path: '/streams/{id}', methods: [HttpMethod.GET, HttpMethod.DELETE], integration });
  api.addRoutes({ path: '/streams/{id}/defects', methods: [HttpMethod.GET], integration });
  api.addRoutes({ path: '/streams/{id}/thumbnail', methods: [HttpMethod.GET], integration });
  api.addRoutes({ path: '/streams/{id}/evidence/{file}', methods: [HttpMethod.GET], integration });
  api.addRoutes({ path: '/streams/{id}/loudness', methods: [HttpMethod.GET], integration });
  // The console's data routes, for browsers signed in through an OpenID Connect issuer (a
  // Cognito user pool): the same handler, the owner from the token's claim.
  if (params.consoleJwtIssuer && params.consoleJwtAudience) {
    api.addRoutes({
      path: '/console/api/{proxy+}',
      methods: [HttpMethod.GET],
      integration,
      authorizer: new HttpJwtAuthorizer('ConsoleSignIn', params.consoleJwtIssuer, {
        jwtAudience: [params.consoleJwtAudience],
      }),
    });
  }
  // The console's files hold no data: served without credentials.
  for (const path of ['/console', '/console/{file}'])
    api.addRoutes({ path, methods: [HttpMethod.GET], integration, authorizer: new HttpNoneAuthorizer() });
  api.addRoutes({
    path: '/health',
    methods: [HttpMethod.GET],
    integration,
    authorizer: new HttpNoneAuthorizer(),
  });
  const stage = new HttpStage(scope, 'DefaultStage', {
    httpApi: api,
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
  return { dispatcher, api, stage };
}
