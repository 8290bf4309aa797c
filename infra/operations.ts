/**
 * What the operators of a stack watch: one alarm per backlog and failure path, all to the
 * operations topic and on the dashboard. Every streamqc metric carries the stack's name as its
 * ServiceName dimension, so two stacks in one account never share a metric or an alarm.
 */
import { Duration, type Stack } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** CloudWatch namespace of the metrics workers and the fleet check publish (embedded metric format). */
export const METRIC_NAMESPACE = 'streamqc';

/** A streamqc metric of this stack. */
export function stackMetric(stack: Stack, metricName: string, statistic: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRIC_NAMESPACE,
    metricName,
    dimensionsMap: { ServiceName: stack.stackName },
    statistic,
    period: Duration.minutes(1),
  });
}

export interface OperationsProps {
  stack: Stack;
  opsTopic: sns.ITopic;
  tables: dynamodb.Table[];
  service: ecs.FargateService;
  clusterName: string;
  dispatcher: lambda.IFunction;
  api: HttpApi;
  /** The alert queue's dead-letter queue, when the stack made one (-c alertQueue=true). */
  alertDeadLetters?: sqs.IQueue;
}

export class Operations extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: OperationsProps) {
    super(scope, id);
    const { stack } = props;
    const m = (name: string, statistic: string) => stackMetric(stack, name, statistic);
    const alarm = (
      id: string,
      description: string,
      options: Omit<cloudwatch.AlarmProps, 'alarmDescription'>,
    ) => {
      const a = new cloudwatch.Alarm(this, id, {
        alarmDescription: description,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...options,
      });
      // OK too: whoever was paged learns that it is over.
      a.addAlarmAction(new cloudwatchActions.SnsAction(props.opsTopic));
      a.addOkAction(new cloudwatchActions.SnsAction(props.opsTopic));
      this.alarms.push(a);
      return a;
    };
    const above = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;

    // Streams not monitored, or monitored late.
    alarm(
      'UnitsWaitingForWorkers',
      'Work units waited 5 minutes for a worker with room (fleet at maxTasks?)',
      {
        metric: m('UnitsWaiting', 'Minimum'),
        threshold: 1,
        comparisonOperator: above,
        evaluationPeriods: 5,
      },
    );
    alarm('FleetCheckMissing', 'The scheduled fleet check has not reported for 5 minutes', {
      metric: m('UnitsWaiting', 'SampleCount').with({ period: Duration.minutes(5) }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    // A unit 10 s behind has its decoder restarted at the edge, so its lag never stays above
    // 10 s: 5 s (where a worker stops claiming) held for 3 minutes is the sign of a worker behind.
    alarm('WorkersBehind', 'A worker processed a stream more than 5 s behind the live edge for 3 minutes', {
      metric: m('MaxLagSeconds', 'Maximum'),
      threshold: 5,
      comparisonOperator: above,
      evaluationPeriods: 3,
    });
    // Heartbeats and load stay green while no unit runs (a grant missing, a broken image): this
    // does not. Half the held units not monitoring for 3 minutes also rolls a deployment back.
    const notRunning = alarm(
      'UnitsNotRunning',
      'Half the work units held by workers have not been monitoring (opening or backing off) for 3 minutes',
      {
        metric: new cloudwatch.MathExpression({
          expression: '100 * notRunning / MAX([streams, 1])',
          usingMetrics: { notRunning: m('UnitsNotRunning', 'Sum'), streams: m('Streams', 'Sum') },
          period: Duration.minutes(1),
          label: 'units not monitoring, % of held',
        }),
        threshold: 50,
        comparisonOperator: above,
        evaluationPeriods: 3,
      },
    );
    props.service.enableDeploymentAlarms([notRunning.alarmName], {
      behavior: ecs.AlarmBehavior.ROLLBACK_ON_ALARM,
    });
    if (props.alertDeadLetters)
      alarm('AlertQueueDeadLetters', 'Defect events the alert queue could not hand to its consumer', {
        metric: props.alertDeadLetters.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
        threshold: 1,
        comparisonOperator: above,
        evaluationPeriods: 1,
      });
    alarm('WorkerHeartbeatsMissing', 'No worker reported in for 3 minutes', {
      metric: m('Heartbeats', 'SampleCount'),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    alarm('TasksBelowDesired', 'Fewer worker tasks running than desired for 10 minutes', {
      metric: new cloudwatch.MathExpression({
        expression: 'desired - running',
        usingMetrics: {
          desired: this.insights(props, 'DesiredTaskCount'),
          running: this.insights(props, 'RunningTaskCount'),
        },
        period: Duration.minutes(1),
      }),
      threshold: 1,
      comparisonOperator: above,
      evaluationPeriods: 10,
    });
    // Alarms that may not reach their consumers.
    alarm('OutboxBacklogOld', 'An event has waited over 10 minutes for a sink', {
      metric: m('OutboxOldestSeconds', 'Maximum'),
      threshold: 600,
      comparisonOperator: above,
      evaluationPeriods: 2,
    });
    alarm('OutboxBacklogDeep', 'Over 100 events wait for a sink', {
      metric: m('OutboxDepth', 'Maximum'),
      threshold: 100,
      comparisonOperator: above,
      evaluationPeriods: 5,
    });
    alarm(
      'DeadLetters',
      'Dead letters wait for a replay (a sink gave up on an event): see docs/sending-events.md',
      {
        metric: m('DeadLettersStored', 'Maximum'),
        threshold: 1,
        comparisonOperator: above,
        evaluationPeriods: 1,
      },
    );
    alarm('DeliveryFailures', 'Event deliveries keep failing (a sink is down)', {
      metric: m('DeliveryFailures', 'Sum').with({ period: Duration.minutes(5) }),
      threshold: 10,
      comparisonOperator: above,
      evaluationPeriods: 2,
    });
    // The registry and the API.
    for (const kind of ['Read', 'Write'] as const) {
      alarm(`DynamoDb${kind}Throttles`, `DynamoDB throttled ${kind.toLowerCase()}s on a registry table`, {
        metric: new cloudwatch.MathExpression({
          expression: props.tables.map((_, i) => `t${i}`).join(' + '),
          usingMetrics: Object.fromEntries(
            props.tables.map((t, i) => [
              `t${i}`,
              t.metric(`${kind}ThrottleEvents`, { statistic: 'Sum', period: Duration.minutes(5) }),
            ]),
          ),
          period: Duration.minutes(5),
        }),
        threshold: 1,
        comparisonOperator: above,
        evaluationPeriods: 1,
      });
    }
    // Rates, not counts: one failed call in five minutes is noise at scale; 5% in two of three
    // five-minute periods is not.
    // The alarm's settings are the rule: 5% in 2 of 3 five-minute periods.
    const rateAlarm = (
      id: string,
      description: string,
      failed: cloudwatch.IMetric,
      all: cloudwatch.IMetric,
      label: string,
    ) =>
      alarm(id, description, {
        metric: new cloudwatch.MathExpression({
          expression: '100 * failed / MAX([all, 1])',
          usingMetrics: { failed, all },
          period: Duration.minutes(5),
          label,
        }),
        threshold: 5,
        comparisonOperator: above,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
      });
    const fiveMinutes = { period: Duration.minutes(5) };
    rateAlarm(
      'DispatcherErrors',
      'Over 5% of dispatcher invocations failed in 2 of 3 five-minute periods',
      props.dispatcher.metricErrors(fiveMinutes),
      props.dispatcher.metricInvocations(fiveMinutes),
      'dispatcher errors, % of invocations',
    );
    alarm('DispatcherThrottles', 'The dispatcher Lambda was throttled', {
      metric: props.dispatcher.metricThrottles({ period: Duration.minutes(5) }),
      threshold: 1,
      comparisonOperator: above,
      evaluationPeriods: 1,
    });
    rateAlarm(
      'Api5xx',
      'Over 5% of API requests answered 5xx in 2 of 3 five-minute periods',
      props.api.metricServerError(fiveMinutes),
      props.api.metricCount(fiveMinutes),
      'API 5xx, % of requests',
    );

    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${stack.stackName}-streamqc`,
    });
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Worker load (units / budget)',
        left: [m('LoadRatio', 'Average')],
      }),
      new cloudwatch.GraphWidget({
        title: 'Max lag behind live edge (s)',
        left: [m('MaxLagSeconds', 'Maximum')],
      }),
      new cloudwatch.GraphWidget({
        title: 'Units waiting, tasks short',
        left: [m('UnitsWaiting', 'Maximum'), m('TasksShort', 'Maximum')],
      }),
      new cloudwatch.GraphWidget({
        title: 'Outbox',
        left: [m('OutboxDepth', 'Maximum'), m('DeadLettersStored', 'Maximum'), m('DeadLetters', 'Sum')],
        right: [m('OutboxOldestSeconds', 'Maximum')],
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Tasks',
        left: [props.service.metricCpuUtilization(), props.service.metricMemoryUtilization()],
      }),
      new cloudwatch.GraphWidget({
        title: 'API',
        left: [props.api.metricCount(), props.api.metricClientError(), props.api.metricServerError()],
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 12 }),
    );
  }

  private insights(props: OperationsProps, metricName: string): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'ECS/ContainerInsights',
      metricName,
      dimensionsMap: { ClusterName: props.clusterName, ServiceName: props.service.serviceName },
      statistic: 'Average',
      period: Duration.minutes(1),
    });
  }
}
