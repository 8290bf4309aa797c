/**
 * The fleet check: how many units wait for a worker, reported as a metric (and a warning) and
 * answered with capacity. Runs after registrations (at most every few seconds), on a schedule on
 * AWS (EventBridge, once a minute) and on a timer in the local stack. It reads only the waiting
 * index, so it costs nothing while every unit runs.
 */
import type { Logger } from '../shared/logger.js';
import type { Registry } from '../shared/registry/Registry.js';
import type { Launcher } from './launcher.js';

export interface FleetCheckDeps {
  registry: Registry;
  launcher: Launcher;
  logger: Logger;
  budget: number;
  minWorkers: number;
  maxWorkers: number;
  /** CloudWatch namespace for the UnitsWaiting metric (embedded metric format); none locally. */
  metricNamespace?: string;
}

export async function fleetCheck(deps: FleetCheckDeps): Promise<{ waiting: number }> {
  const waiting = await deps.registry.units.countWaiting();
  if (waiting > 0) deps.logger.warn({ waiting }, 'units waiting for a worker with room');
  if (deps.metricNamespace) {
    const record = {
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [
          {
            Namespace: deps.metricNamespace,
            Dimensions: [['ServiceName']],
            Metrics: [{ Name: 'UnitsWaiting', Unit: 'Count' }],
          },
        ],
      },
      ServiceName: 'workers',
      UnitsWaiting: waiting,
    };
    process.stdout.write(`${JSON.stringify(record)}\n`);
  }
  await deps.launcher.ensureCapacity({
    waitingUnits: waiting,
    budget: deps.budget,
    minWorkers: deps.minWorkers,
    maxWorkers: deps.maxWorkers,
  });
  return { waiting };
}
