/** `streamqc worker`: one worker agent (an ECS task's process; a child of the local stack). */
import { SNSClient } from '@aws-sdk/client-sns';
import { registryConfig, securityConfig, workerConfig } from '../../shared/config.js';
import { createLogger } from '../../shared/logger.js';
import { Registry } from '../../shared/registry/Registry.js';
import { startMetricsServer } from '../agent/metricsServer.js';
import { WorkerAgent } from '../agent/WorkerAgent.js';
import { ConsolePublisher } from '../publishers/ConsolePublisher.js';
import { NdjsonFilePublisher } from '../publishers/NdjsonFilePublisher.js';
import { Outbox } from '../publishers/Outbox.js';
import type { Publisher } from '../publishers/Publisher.js';
import { SnsPublisher } from '../publishers/SnsPublisher.js';
import { WebhookPublisher } from '../publishers/WebhookPublisher.js';

/** Seconds the worker allows itself to drain after SIGTERM (keep under the ECS stop timeout). */
const DRAIN_SECONDS = 25;

export async function workerCommand(): Promise<number> {
  const config = workerConfig();
  const logger = createLogger('streamqc-worker').child({ workerId: config.workerId });
  const registry = new Registry(registryConfig());
  const publishers: Publisher[] = [];
  if (config.snsTopicArn) {
    const sns = new SNSClient({
      ...(config.snsEndpoint ? { endpoint: config.snsEndpoint } : {}),
      maxAttempts: 5,
    });
    publishers.push(new SnsPublisher(sns, config.snsTopicArn));
  }
  if (config.ndjsonPath) publishers.push(new NdjsonFilePublisher(config.ndjsonPath));
  if (config.webhookUrl && config.webhookSecret)
    publishers.push(new WebhookPublisher(config.webhookUrl, config.webhookSecret));
  if (config.console) publishers.push(new ConsolePublisher());
  const outbox = new Outbox(registry, publishers, logger);
  const agent = new WorkerAgent(config, securityConfig(), registry, outbox, logger);
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
      const hard = setTimeout(() => {
        logger.error('drain took too long; exiting');
        resolve(1);
      }, DRAIN_SECONDS * 1000);
      hard.unref();
      await agent.drain();
      metrics.close();
      registry.destroy();
      clearTimeout(hard);
      resolve(0);
    };
    process.once('SIGTERM', () => void shutdown('SIGTERM'));
    process.once('SIGINT', () => void shutdown('SIGINT'));
  });
}
