/**
 * Worker capacity. Locally the stack's launcher starts worker processes for waiting units. On
 * AWS, Application Auto Scaling is the one owner of the ECS task count: the dispatcher never
 * changes it. It only reads the service's running and desired counts (ECS DescribeServices) so
 * the fleet check can report how many tasks are missing for the units that wait (`TasksShort`),
 * which the scaling policy acts on.
 */
import { DescribeServicesCommand, type ECSClient } from '@aws-sdk/client-ecs';

export interface CapacityRequest {
  /** Units waiting for a worker with room. */
  waitingUnits: number;
  /** Units one worker runs. */
  budget: number;
  minWorkers: number;
  maxWorkers: number;
}

export interface Launcher {
  /** Makes sure enough workers run (or are starting) for the units waiting, within the limits. */
  ensureCapacity(request: CapacityRequest): Promise<void>;
}

/** Workers wanted: the running ones plus room for every waiting unit, within the limits. */
export function wantedWorkers(running: number, r: CapacityRequest): number {
  return Math.min(r.maxWorkers, Math.max(r.minWorkers, running + Math.ceil(r.waitingUnits / r.budget)));
}

/** Tasks still missing for the waiting units, after those already starting (desired − running). */
export function tasksShort(counts: TaskCounts, waitingUnits: number, budget: number): number {
  return Math.max(0, Math.ceil(waitingUnits / budget) - Math.max(0, counts.desired - counts.running));
}

/** For when another component (Application Auto Scaling on AWS) owns the count. */
export class NoopLauncher implements Launcher {
  async ensureCapacity(): Promise<void> {}
}

export interface TaskCounts {
  running: number;
  desired: number;
}

/** Reads an ECS service's running and desired task counts (read-only: ecs:DescribeServices). */
export function ecsTaskCounts(ecs: ECSClient, cluster: string, service: string): () => Promise<TaskCounts> {
  return async () => {
    const d = await ecs.send(new DescribeServicesCommand({ cluster, services: [service] }));
    const s = d.services?.[0];
    return { running: s?.runningCount ?? 0, desired: s?.desiredCount ?? 0 };
  };
}
