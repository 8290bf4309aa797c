/**
 * FOR THE SCALE HARNESS ONLY (`npm run bench:scale`, and the assignment tests): a stand-in for
 * StreamSupervisor that decodes nothing. It lives outside worker/ so the worker image never holds
 * it: `streamqc worker` (cli/main.ts) runs a worker with it when
 * STREAMQC_SCALE_HARNESS_STANDIN_DIR is set; the image's entry point cannot. It records when each unit starts and stops running on
 * this worker, and how many DynamoDB calls the worker has made, as NDJSON lines in
 * `$STREAMQC_SCALE_HARNESS_STANDIN_DIR/<workerId>.ndjson`, so the harness measures the lease and
 * registry protocol alone. A worker uses it only when that variable is set.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../shared/logger.js';
import type { UnitItem } from '../shared/registry/Registry.js';
import type { UnitState } from '../shared/streamSpec.js';
import type { RunnerFactory, UnitRunner } from '../worker/agent/WorkerAgent.js';
import { type WorkerHooks, workerCommand } from '../worker/main.js';

export interface StandInRecord {
  event: 'start' | 'stop' | 'calls';
  workerId: string;
  at: number;
  unitId?: string;
  calls?: number;
}

export class ScaleHarnessStandIn implements UnitRunner {
  readonly log: Logger;
  readonly lagSeconds = 0;
  readonly frames = 0;
  readonly restarts = 0;
  state: UnitState = 'opening';

  constructor(
    readonly unit: UnitItem,
    private readonly record: (r: Omit<StandInRecord, 'workerId' | 'at'>) => void,
    logger: Logger,
  ) {
    this.log = logger.child({ streamId: unit.streamId, group: unit.group });
  }

  cpuSeconds(): number {
    return 0;
  }

  start(): void {
    this.state = 'running';
    this.record({ event: 'start', unitId: this.unit.unitId });
  }

  async stop(): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'completed';
    this.record({ event: 'stop', unitId: this.unit.unitId });
  }
}

/** The stand-in runner factory, and a recorder of the worker's DynamoDB call count. */
export function scaleHarnessStandIn(
  dir: string,
  workerId: string,
): { runUnit: RunnerFactory; recordCalls: (calls: number) => void } {
  const file = join(dir, `${workerId}.ndjson`);
  const write = (r: Omit<StandInRecord, 'workerId' | 'at'>) =>
    appendFileSync(file, `${JSON.stringify({ ...r, workerId, at: Date.now() })}\n`);
  return {
    runUnit: (unit, _stream, deps) => new ScaleHarnessStandIn(unit, write, deps.logger),
    recordCalls: (calls) => write({ event: 'calls', calls }),
  };
}

/** `streamqc worker` with the stand-in: units recorded, not decoded. */
export function standInWorker(dir: string): Promise<number> {
  const hooks: WorkerHooks = (workerId) => {
    const standIn = scaleHarnessStandIn(dir, workerId);
    return {
      runUnit: standIn.runUnit,
      started: (registry) => setInterval(() => standIn.recordCalls(registry.calls), 2000).unref(),
    };
  };
  return workerCommand(hooks);
}
