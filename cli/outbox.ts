/**
 * `streamqc outbox`: the dead letters — events a sink gave up on after its retries — listed, or
 * put back for delivery. Locally it finds the running stack's registry in the data directory; on
 * AWS it uses the table names and credentials of the environment (STREAMQC_TABLE_OUTBOX, …).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setAwsCallerRole } from '../shared/awsCallLog.js';
import { type RegistryConfig, registryConfig } from '../shared/config.js';
import { Registry } from '../shared/registry/Registry.js';

export const OUTBOX_HELP = `Usage: streamqc outbox list [--data DIR]
       streamqc outbox replay (ID... | --all) [--sink NAME] [--data DIR]

list     prints each dead letter as one JSON line: id, event, and the sinks that gave up (with
         their last error)
replay   delivers them again to the sinks that gave up (or only to --sink NAME); sinks that took
         the event do not get it twice

Locally DIR is the stack's data directory (default .streamqc/, the stack must be running); on AWS
set AWS credentials and STREAMQC_TABLE_OUTBOX (the stack's outbox table).`;

function config(dataDir: string): RegistryConfig {
  const file = join(dataDir, 'registry.json');
  if (!process.env.STREAMQC_TABLE_OUTBOX && existsSync(file)) {
    const { endpoint } = JSON.parse(readFileSync(file, 'utf8')) as { endpoint: string };
    return { endpoint, region: 'local', tablePrefix: 'streamqc' };
  }
  return registryConfig();
}

export async function outboxCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      data: { type: 'string' },
      sink: { type: 'string' },
      all: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [action, ...ids] = positionals;
  if (
    values.help ||
    !action ||
    !['list', 'replay'].includes(action) ||
    (action === 'replay' && !ids.length && !values.all)
  ) {
    process.stdout.write(`${OUTBOX_HELP}\n`);
    return values.help ? 0 : 2;
  }
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  setAwsCallerRole('operator');
  const registry = new Registry(config(values.data ?? join(process.cwd(), '.streamqc')));
  try {
    const dead = await registry.outbox.deadLetters(1000);
    if (action === 'list') {
      for (const item of dead) {
        const gaveUp = Object.fromEntries(
          Object.entries(item.sinks)
            .filter(([, s]) => s.state === 'dead')
            .map(([name, s]) => [name, { attempts: s.attempts, lastError: s.lastError }]),
        );
        process.stdout.write(`${JSON.stringify({ id: item.id, event: item.event, gaveUp })}\n`);
      }
      process.stderr.write(`${dead.length} dead letter(s)\n`);
      return 0;
    }
    const targets = values.all ? dead.map((d) => d.id) : ids;
    let replayed = 0;
    for (const id of targets) {
      if (await registry.outbox.replay(id, values.sink)) replayed++;
      else process.stderr.write(`not a dead letter${values.sink ? ` for sink ${values.sink}` : ''}: ${id}\n`);
    }
    process.stderr.write(`${replayed} replayed; workers deliver them within a few seconds\n`);
    return replayed === targets.length ? 0 : 1;
  } finally {
    registry.destroy();
  }
}
