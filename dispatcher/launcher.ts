/**
 * Launchers give the dispatcher the worker capacity waiting units need: ECS UpdateService on
 * AWS (raise only: the autoscaler owns scale-in), child processes locally.
 */
import { DescribeServicesCommand, type ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';

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

/** Raises an ECS service's desired count; never lowers it (scale-in is the autoscaler's job). */
export class EcsLauncher implements Launcher {
  constructor(
    private readonly ecs: ECSClient,
    private readonly cluster: string,
    private readonly service: string,
  ) {}

  async ensureCapacity(request: CapacityRequest): Promise<void> {
    const d = await this.ecs.send(
      new DescribeServicesCommand({ cluster: this.cluster, services: [this.service] }),
    );
    const current = d.services?.[0]?.desiredCount ?? 0;
    // Tasks still starting are in the desired count already: they are not asked for twice.
    const count = wantedWorkers(d.services?.[0]?.runningCount ?? 0, request);
    if (count <= current) return;
    await this.ecs.send(
      new UpdateServiceCommand({ cluster: this.cluster, service: this.service, desiredCount: count }),
    );
  }
}

/** For when the worker count is owned elsewhere. */
export class NoopLauncher implements Launcher {
  async ensureCapacity(): Promise<void> {}
}
