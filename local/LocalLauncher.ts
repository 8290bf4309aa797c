/**
 * The local launcher: worker processes as children of the local stack, as ECS runs tasks on AWS.
 * A worker that dies unexpectedly is replaced, as the ECS service would replace a stopped task.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type CapacityRequest, type Launcher, wantedWorkers } from '../dispatcher/launcher.js';
import type { Logger } from '../shared/logger.js';

export interface LocalLauncherOptions {
  /** Command that runs one worker, e.g. [node, bin/streamqc.js, worker]. */
  command: string[];
  env: Record<string, string>;
  logDir: string;
  logger: Logger;
  maxWorkers: number;
  /** Where worker stdout goes (the console publisher's lines). */
  stdout?: NodeJS.WritableStream;
}

interface Child {
  id: string;
  process: ChildProcess;
  exited: Promise<void>;
  startedAt: number;
}

/** A worker started this recently may not have claimed its units yet: no more are asked for meanwhile. */
const STARTING_MS = 15_000;

/** A worker that dies sooner than this after starting counts as a crash loop (backoff grows). */
const QUICK_EXIT_MS = 10_000;
const MAX_RESPAWN_DELAY_MS = 30_000;

export class LocalLauncher implements Launcher {
  readonly children = new Map<string, Child>();
  private next = 1;
  private stopping = false;
  private respawnDelayMs = 1000;

  constructor(private readonly options: LocalLauncherOptions) {
    mkdirSync(options.logDir, { recursive: true });
  }

  async ensureCapacity(request: CapacityRequest): Promise<void> {
    const now = Date.now();
    const starting = [...this.children.values()].some((c) => now - c.startedAt < STARTING_MS);
    if (starting && request.waitingUnits > 0) return;
    await this.ensureWorkers(wantedWorkers(this.children.size, request));
  }

  /** Starts workers until `count` run (at most maxWorkers). */
  async ensureWorkers(count: number): Promise<void> {
    const target = Math.min(count, this.options.maxWorkers);
    while (!this.stopping && this.children.size < target) this.spawnWorker();
  }

  /** Starts one more worker process; returns its id. */
  spawnWorker(): string {
    const id = `local-${this.next++}`;
    const [cmd, ...args] = this.options.command;
    const log = createWriteStream(join(this.options.logDir, `${id}.log`), { flags: 'a' });
    const child = spawn(cmd, args, {
      env: { ...process.env, ...this.options.env, STREAMQC_WORKER_ID: id },
      // The IPC channel is the worker's lifeline: it closes when this process dies, however it
      // dies (even SIGKILL), and the worker then drains and exits instead of living on as an orphan.
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    child.stdout?.pipe(this.options.stdout ?? process.stdout, { end: false });
    child.stderr?.pipe(log);
    const startedAt = Date.now();
    const exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.children.delete(id);
        if (!this.stopping) {
          const quick = Date.now() - startedAt < QUICK_EXIT_MS;
          this.respawnDelayMs = quick ? Math.min(MAX_RESPAWN_DELAY_MS, this.respawnDelayMs * 2) : 1000;
          this.options.logger.warn(
            { workerId: id, code, signal, restartInMs: this.respawnDelayMs },
            'worker exited; starting a replacement',
          );
          setTimeout(() => {
            if (!this.stopping) this.spawnWorker();
          }, this.respawnDelayMs).unref();
        }
        resolve();
      });
    });
    this.children.set(id, { id, process: child, exited, startedAt });
    this.options.logger.info({ workerId: id, pid: child.pid }, 'worker started');
    return id;
  }

  /** Sends SIGTERM to every worker and waits for them to drain (SIGKILL after the timeout). */
  async stopAll(timeoutMs = 30_000): Promise<void> {
    this.stopping = true;
    const children = [...this.children.values()];
    for (const c of children) c.process.kill('SIGTERM');
    const timer = setTimeout(() => {
      for (const c of children) c.process.kill('SIGKILL');
    }, timeoutMs);
    await Promise.all(children.map((c) => c.exited));
    clearTimeout(timer);
  }
}
