/**
 * Worker metrics for CloudWatch in the embedded metric format: one JSON line on stdout a minute,
 * which CloudWatch Logs (the awslogs driver) turns into metrics without any API call. The service
 * autoscaler tracks LoadRatio; the alarms watch MaxLagSeconds and Heartbeats.
 */

export interface WorkerLoad {
  streams: number;
  budget: number;
  maxLagSeconds: number;
}

/** The EMF record for one sample. */
export function emfRecord(namespace: string, load: WorkerLoad, now = Date.now()): Record<string, unknown> {
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
          ],
        },
      ],
    },
    ServiceName: 'workers',
    LoadRatio: Math.round((load.streams / load.budget) * 1000) / 1000,
    Streams: load.streams,
    MaxLagSeconds: Math.round(load.maxLagSeconds * 100) / 100,
    Heartbeats: 1,
  };
}
