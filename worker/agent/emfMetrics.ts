/**
 * Worker metrics for CloudWatch in the embedded metric format: one JSON line on stdout a minute,
 * which CloudWatch Logs (the awslogs driver) turns into metrics without any API call. The
 * dimension is the deployment's own name (STREAMQC_METRIC_SERVICE, the stack name), so two
 * stacks in one account never share a metric. The autoscaler tracks LoadRatio; alarms watch
 * MaxLagSeconds, Heartbeats, DeliveryFailures, DeadLetters and UnitsNotRunning (also the
 * deployment's rollback alarm).
 */

export interface WorkerLoad {
  streams: number;
  budget: number;
  maxLagSeconds: number;
  /** Failed delivery attempts and events given up on (since the last record, in a record). */
  deliveryFailures: number;
  deadLetters: number;
  /**
   * Units this worker holds that should be monitoring and are not: opening or backing off for
   * over a minute (a source that fails, a call the role does not allow, a decoder that cannot
   * start). Heartbeats and load stay green while no unit runs; this does not.
   */
  unitsNotRunning: number;
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
            { Name: 'UnitsNotRunning', Unit: 'Count' },
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
    UnitsNotRunning: load.unitsNotRunning,
  };
}

/**
 * Writes one EMF line a minute to stdout (none without a namespace). Delivery failures and dead
 * letters are given as running totals and reported as the change since the last line.
 */
export class EmfReporter {
  private last = 0;
  private failures = 0;
  private dead = 0;

  constructor(
    private readonly namespace: string | undefined,
    private readonly write: (line: string) => void = (line) => process.stdout.write(line),
  ) {}

  maybeWrite(load: WorkerLoad, now = Date.now()): void {
    if (!this.namespace || now - this.last < 60_000) return;
    this.last = now;
    const record = emfRecord(
      this.namespace,
      {
        ...load,
        deliveryFailures: load.deliveryFailures - this.failures,
        deadLetters: load.deadLetters - this.dead,
      },
      now,
    );
    this.failures = load.deliveryFailures;
    this.dead = load.deadLetters;
    this.write(`${JSON.stringify(record)}\n`);
  }
}
