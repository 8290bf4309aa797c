/**
 * Launchers give the dispatcher the worker capacity it asks for: ECS UpdateService on AWS,
 * nothing to do when another component (the autoscaler, the local stack) owns the count.
 */
import { DescribeServicesCommand, type ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';

export interface Launcher {
  /** Makes sure at least `count` workers are (being) started. */
  ensureWorkers(count: number): Promise<void>;
}

/** Raises an ECS service's desired count; never lowers it (scale-in is the autoscaler's job). */
export class EcsLauncher implements Launcher {
  constructor(
    private readonly ecs: ECSClient,
    private readonly cluster: string,
    private readonly service: string,
  ) {}

  async ensureWorkers(count: number): Promise<void> {
    const d = await this.ecs.send(
      new DescribeServicesCommand({ cluster: this.cluster, services: [this.service] }),
    );
    const current = d.services?.[0]?.desiredCount ?? 0;
    if (count <= current) return;
    await this.ecs.send(
      new UpdateServiceCommand({ cluster: this.cluster, service: this.service, desiredCount: count }),
    );
  }
}

/** For when the worker count is owned elsewhere. */
export class NoopLauncher implements Launcher {
  async ensureWorkers(): Promise<void> {}
}
