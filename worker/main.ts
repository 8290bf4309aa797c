/** `streamqc worker`: one worker agent (an ECS task's process; a child of the local stack). */
import { fileURLToPath } from 'node:url';
import { SNSClient } from '@aws-sdk/client-sns';
import { recordAwsCalls, setAwsCallerRole } from '../shared/awsCallLog.js';
import { registryConfig, securityConfig, workerConfig } from '../shared/config.js';
import { createLogger } from '../shared/logger.js';
import { Registry } from '../shared/registry/Registry.js';
import { startMetricsServer } from './agent/metricsServer.js';
import { ecsTaskArn } from './agent/taskIdentity.js';
import { type RunnerFactory, WorkerAgent } from './agent/WorkerAgent.js';
import { ConsolePublisher } from './publishers/ConsolePublisher.js';
import { NdjsonFilePublisher } from './publishers/NdjsonFilePublisher.js';
import { Outbox } from './publishers/Outbox.js';
import type { Publisher } from './publishers/Publisher.js';
import { SnsPublisher } from './publishers/SnsPublisher.js';
import { WebhookPublisher } from './publishers/WebhookPublisher.js';

/** Seconds to drain when the parent (the local stack) is gone: its registry went with it. */
const ORPHAN_DRAIN_SECONDS = 5;

/**
 * What a harness may put in a worker (local/ScaleHarnessStandIn.ts): its unit runner, and a hook
 * once the registry is up. Production workers take none.
 */
export type WorkerHooks = (workerId: string) => {
  runUnit?: RunnerFactory;
  started?: (registry: Registry) => void;
};

export async function workerCommand(hooksFor?: WorkerHooks): Promise<number> {
  // The IPC channel (when the local stack started us) must not keep the process alive on its own.
  process.channel?.unref();
  setAwsCallerRole('worker');
  // On ECS the worker is its task: the task ARN names it (unless STREAMQC_WORKER_ID says otherwise).
  const taskArn = process.env.STREAMQC_WORKER_ID ? null : await ecsTaskArn();
  const config = { ...workerConfig(), ...(taskArn ? { workerId: taskArn } : {}) };
  const logger = createLogger('streamqc-worker').child({ workerId: config.workerId });
  const registry = new Registry(registryConfig());
  const publishers: Publisher[] = [];
  if (config.snsTopicArn) {
    const sns = new SNSClient({
      ...(config.snsEndpoint ? { endpoint: config.snsEndpoint } : {}),
      maxAttempts: 5,
    });
    recordAwsCalls(sns, 'sns');
    publishers.push(new SnsPublisher(sns, config.snsTopicArn));
  }
  if (config.ndjsonPath) publishers.push(new NdjsonFilePublisher(config.ndjsonPath));
  if (config.webhookUrl && config.webhookSecret)
    publishers.push(new WebhookPublisher(config.webhookUrl, config.webhookSecret));
  if (config.console) publishers.push(new ConsolePublisher());
  const outbox = new Outbox(registry, publishers, logger);
  const hooks = hooksFor?.(config.workerId) ?? {};
  const agent = new WorkerAgent(config, securityConfig(), registry, outbox, logger, hooks.runUnit);
  hooks.started?.(registry);
  // Handlers go in before the worker joins the fleet: a stop asked for while it starts waits
  // until it can drain (not the default signal action), and the drain deadline holds from the
  // signal on, since starting can hang too (the store unreachable). Timers, sockets and children
  // keep the event loop alive: past the deadline, exit for real.
  let stop: ((signal: string) => void) | null = null;
  let stopAsked: string | null = null;
  const onStop = (signal: string, seconds: number) => {
    if (stopAsked !== null) return;
    stopAsked = signal;
    setTimeout(() => {
      logger.error({ drainSeconds: seconds }, 'drain took too long; exiting');
      process.exit(1);
    }, seconds * 1000).unref();
    stop?.(signal);
  };
  process.once('SIGTERM', () => onStop('SIGTERM', config.drainSeconds));
  process.once('SIGINT', () => onStop('SIGINT', config.drainSeconds));
  // Started by the local stack: its death closes the IPC channel.
  if (process.channel) process.once('disconnect', () => onStop('parent gone', ORPHAN_DRAIN_SECONDS));
  await agent.start();
  const metrics = await startMetricsServer(
    agent,
    outbox,
    config.metricsPort,
    process.env.STREAMQC_METRICS_HOST ?? '127.0.0.1',
  );
  const address = metrics.address();
  logger.info(
    {
      metricsPort: typeof address === 'object' ? address?.port : null,
      publishers: publishers.map((p) => p.name),
    },
    'worker ready',
  );

  return new Promise<number>((resolve) => {
    const shutdown = async (signal: string) => {
      logger.info({ signal }, 'stopping');
      await agent.drain();
      metrics.close();
      registry.destroy();
      resolve(0);
    };
    stop = (signal) => void shutdown(signal);
    if (stopAsked !== null) stop(stopAsked);
  });
}

// Run directly (the worker image's entry point: `node dist/worker/main.js`).
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await workerCommand();
}
