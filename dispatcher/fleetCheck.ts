/**
 * The fleet check: how many units wait for a worker, reported as a metric (and a warning) and
 * answered with capacity. Runs after registrations (at most every few seconds), on a schedule on
 * AWS (EventBridge, once a minute) and on a timer in the local stack. It reads only the waiting
 * index, so it costs nothing while every unit runs.
 */
import type { Logger } from '../shared/logger.js';
import type { Registry } from '../shared/registry/Registry.js';
import { type Launcher, type TaskCounts, tasksShort } from './launcher.js';

export interface FleetCheckDeps {
  registry: Registry;
  launcher: Launcher;
  logger: Logger;
  budget: number;
  minWorkers: number;
  maxWorkers: number;
  /** CloudWatch namespace for the metrics (embedded metric format); none locally. */
  metricNamespace?: string;
  /** The metrics' ServiceName dimension (the stack's name). */
  metricService?: string;
  /** The ECS service's task counts (AWS), for TasksShort. */
  taskCounts?: () => Promise<TaskCounts>;
}

export interface FleetReport {
  waiting: number;
  /** Tasks missing for the waiting units (AWS only). */
  tasksShort?: number;
  /** Events waiting for a sink, the oldest one's age, and the dead letters. */
  outboxDepth: number;
  outboxOldestSeconds: number;
  deadLetters: number;
}

export async function fleetCheck(deps: FleetCheckDeps): Promise<FleetReport> {
  const waiting = await deps.registry.units.countWaiting();
  const backlog = await deps.registry.outbox.backlog();
  const report: FleetReport = { waiting, ...backlog };
  if (deps.taskCounts) report.tasksShort = tasksShort(await deps.taskCounts(), waiting, deps.budget);
  if (waiting > 0) deps.logger.warn({ ...report }, 'units waiting for a worker with room');
  if (deps.metricNamespace) {
    const values: Record<string, number> = {
      UnitsWaiting: waiting,
      OutboxDepth: backlog.outboxDepth,
      OutboxOldestSeconds: backlog.outboxOldestSeconds,
      // Stored dead letters (a gauge: until replayed or expired); workers report DeadLetters, the
      // events they gave up on in the last minute (a count), under the other name.
      DeadLettersStored: backlog.deadLetters,
      ...(report.tasksShort !== undefined ? { TasksShort: report.tasksShort } : {}),
    };
    const record = {
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [
          {
            Namespace: deps.metricNamespace,
            Dimensions: [['ServiceName']],
            Metrics: Object.keys(values).map((Name) => ({
              Name,
              Unit: Name.endsWith('Seconds') ? 'Seconds' : 'Count',
            })),
          },
        ],
      },
      ServiceName: deps.metricService ?? 'streamqc',
      ...values,
    };
    process.stdout.write(`${JSON.stringify(record)}\n`);
  }
  await deps.launcher.ensureCapacity({
    waitingUnits: waiting,
    budget: deps.budget,
    minWorkers: deps.minWorkers,
    maxWorkers: deps.maxWorkers,
  });
  return report;
}
