/**
 * Worker metrics for CloudWatch in the embedded metric format: one JSON line on stdout a minute,
 * which CloudWatch Logs (the awslogs driver) turns into metrics without any API call. The
 * dimension is the deployment's own name (STREAMQC_METRIC_SERVICE, the stack name), so two
 * stacks in one account never share a metric. The autoscaler tracks LoadRatio; alarms watch
 * MaxLagSeconds, Heartbeats, DeliveryFailures and DeadLetters.
 */

export interface WorkerLoad {
  streams: number;
  budget: number;
  maxLagSeconds: number;
  /** Failed delivery attempts and events given up on since the last record. */
  deliveryFailures: number;
  deadLetters: number;
}

/** The dimension value: the stack's name on AWS. */
export function metricService(env: Record<string, string | undefined> = process.env): string {
  return env.STREAMQC_METRIC_SERVICE || 'streamqc';
}

/** The EMF record for one sample. */
export function emfRecord(
  namespace: string,
  load: WorkerLoad,
  now = Date.now(),
  service = metricService(),
): Record<string, unknown> {
  return {
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        {
          Namespace: namespace,
          Dimensions: [['ServiceName']],
          Metrics: [
            { Name: 'LoadRatio', Unit: 'None' },
            { Name: 'Streams', Unit: 'Count' },
            { Name: 'MaxLagSeconds', Unit: 'Seconds' },
            { Name: 'Heartbeats', Unit: 'Count' },
            { Name: 'DeliveryFailures', Unit: 'Count' },
            { Name: 'DeadLetters', Unit: 'Count' },
          ],
        },
      ],
    },
    ServiceName: service,
    LoadRatio: Math.round((load.streams / load.budget) * 1000) / 1000,
    Streams: load.streams,
    MaxLagSeconds: Math.round(load.maxLagSeconds * 100) / 100,
    Heartbeats: 1,
    DeliveryFailures: load.deliveryFailures,
    DeadLetters: load.deadLetters,
  };
}
