/** `streamqc start`: the local stack (npm start) — API on 127.0.0.1:PORT, registry, workers. */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalStack } from '../local/localStack.js';
import { createLogger } from '../shared/logger.js';

export const START_HELP = `Usage: streamqc start [--workers N] [--data DIR]

Runs the local stack: the API on 127.0.0.1:$PORT (default 8080), the embedded registry (data in
DIR, default .streamqc/), and N worker processes (default 2). Alarms are printed here and appended
to DIR/events.ndjson. Ctrl-C drains the workers and stops.`;

/** Prints how to call the API, with the key when it was just created. */
export function printWelcome(url: string, key: string | null, created: boolean): void {
  const shownKey = created ? key : '<your key>';
  process.stdout.write(
    `streamqc local stack on ${url}\n` +
      (created ? `API key (created now, shown once; kept in the data directory): ${key}\n` : '') +
      `Register a stream:\n  curl -s -X POST ${url}/streams -H 'Authorization: Bearer ${shownKey}' \\\n` +
      `    -H 'Content-Type: application/json' -d '{"url":"udp://127.0.0.1:5000","name":"my stream"}'\n` +
      `List streams:   curl -s ${url}/streams -H 'Authorization: Bearer ${shownKey}'\n` +
      // The key rides in the fragment: browsers never send it to the server or keep it in logs.
      `Console:        ${url}/console${created ? `#key=${encodeURIComponent(key ?? '')}` : ' (sign in with your key)'}\n`,
  );
}

export async function startCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { workers: { type: 'string' }, data: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(`${START_HELP}\n`);
    return 0;
  }
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const logger = createLogger('streamqc-local');
  // The API and the embedded registry live in this process: a stray rejection is logged, not fatal.
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection; still serving'));
  const stack = await startLocalStack({
    dataDir: values.data ?? join(process.cwd(), '.streamqc'),
    port: Number(process.env.PORT ?? 8080),
    workers: Number(values.workers ?? 2),
    logger,
  });
  printWelcome(stack.url, stack.apiKey, stack.createdKey);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  process.stdout.write('stopping: draining workers…\n');
  await stack.stop();
  return 0;
}
