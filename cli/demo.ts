/**
 * `streamqc demo` (npm run demo): the local stack plus two synthetic live streams with known
 * defects, registered through the API like any stream owner would; alarms print as they raise
 * and clear. Runs until Ctrl-C, or for STREAMQC_DEMO_SECONDS and then reports what it saw.
 */

import { createSocket } from 'node:dgram';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_ARTEFACTS, DEMO_DEFECTS, DEMO_INJECTED, startDemoSources } from '../local/demoSources.js';
import { startLocalStack } from '../local/localStack.js';
import type { DefectEvent } from '../shared/events.js';
import { createLogger } from '../shared/logger.js';
import { readNdjsonEvents } from '../worker/publishers/NdjsonFilePublisher.js';
import { printWelcome } from './start.js';

async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  const { port } = socket.address();
  await new Promise<void>((r) => socket.close(() => r()));
  return port;
}

async function register(url: string, key: string, body: object): Promise<{ id: string }> {
  const response = await fetch(`${url}/streams`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as { id: string; error?: { message: string } };
  if (response.status !== 201)
    throw new Error(`registration failed (${response.status}): ${json.error?.message}`);
  return json;
}

/** How much of a stream's loudness log the API shows (the last 15 minutes). */
async function loudnessLog(
  url: string,
  key: string,
  id: string,
): Promise<{ points: number; periods: number }> {
  try {
    const response = await fetch(`${url}/streams/${id}/loudness`, {
      headers: { authorization: `Bearer ${key}` },
    });
    const body = (await response.json()) as { series?: unknown[]; periods?: unknown[] };
    return { points: body.series?.length ?? 0, periods: body.periods?.length ?? 0 };
  } catch {
    return { points: 0, periods: 0 };
  }
}

export async function demoCommand(): Promise<number> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const seconds = process.env.STREAMQC_DEMO_SECONDS ? Number(process.env.STREAMQC_DEMO_SECONDS) : null;
  const dataDir = join(process.cwd(), '.streamqc', 'demo');
  // Each demo starts from an empty registry so earlier runs' streams do not linger.
  rmSync(join(dataDir, 'registry'), { recursive: true, force: true });
  rmSync(join(dataDir, 'events.ndjson'), { force: true });
  rmSync(join(dataDir, 'api-keys'), { force: true });
  rmSync(join(dataDir, 'logs'), { recursive: true, force: true });
  process.env.STREAMQC_LOG_LEVEL ??= 'warn';
  const logger = createLogger('streamqc-demo');
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection; still serving'));
  process.stdout.write(
    'streamqc demo: preparing two synthetic live streams (first run encodes 2 × 60 s clips)…\n',
  );
  const sources = await startDemoSources(join(dataDir, 'sources'), await freeUdpPort());
  const stack = await startLocalStack({
    dataDir,
    port: Number(process.env.PORT ?? 8080),
    workers: 2,
    logger,
    workerEnv: { STREAMQC_LOG_LEVEL: process.env.STREAMQC_WORKER_LOG_LEVEL ?? 'info' },
  });
  const key = stack.apiKey!;
  printWelcome(stack.url, key, true);
  const a = await register(stack.url, key, {
    url: sources.hlsUrl,
    name: 'studio-a',
    labels: { site: 'demo' },
    loudness: { standard: 'r128', periodMinutes: 15 },
  });
  const b = await register(stack.url, key, {
    url: sources.udpUrl,
    name: 'studio-b',
    labels: { site: 'demo' },
  });
  process.stdout.write(
    `registered ${a.id} studio-a ${sources.hlsUrl} — ${DEMO_DEFECTS['studio-a (HLS)']}\n` +
      `registered ${b.id} studio-b ${sources.udpUrl} — ${DEMO_DEFECTS['studio-b (UDP)']}\n` +
      `watch:  curl -s ${stack.url}/streams/${a.id}/defects -H 'Authorization: Bearer ${key}'\n` +
      `loudness log (EBU R128, 15-minute periods): curl -s ${stack.url}/streams/${a.id}/loudness -H 'Authorization: Bearer ${key}'\n` +
      `alarms (one line each as they raise and clear), also in ${stack.ndjsonPath}:\n`,
  );
  let stopRequested = false;
  const stopped = new Promise<void>((resolve) => {
    const stop = () => {
      stopRequested = true;
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (seconds !== null) setTimeout(stop, seconds * 1000).unref();
  });
  const cut = setTimeout(() => {
    if (!stopRequested) void sources.interruptUdp(6);
  }, 25_000);
  await stopped;
  clearTimeout(cut);
  const loudness = await loudnessLog(stack.url, key, a.id);
  process.stdout.write('stopping: draining workers…\n');
  await stack.stop();
  await sources.stop();
  const events = readNdjsonEvents(stack.ndjsonPath);
  const raised = events.filter((e) => e.state === 'raised');
  const cleared = events.filter((e) => e.state === 'cleared');
  const types = [...new Set(raised.map((e) => e.type))].sort();
  process.stdout.write(
    `demo summary: ${raised.length} raised, ${cleared.length} cleared (${types.join(', ') || 'none'})\n`,
  );
  if (seconds === null) return 0;
  // The demo knows what it injected: it checks itself, so a false alarm fails the run.
  const names = new Map([
    [a.id, 'studio-a' as const],
    [b.id, 'studio-b' as const],
  ]);
  const problems = checkDemo(raised, names, seconds);
  // studio-a keeps a loudness log: by now the API shows its seconds and its period so far.
  if (seconds >= MISSED_CHECK_SECONDS && (loudness.points < 20 || loudness.periods < 1))
    problems.push(`studio-a's loudness log shows ${loudness.points} seconds and ${loudness.periods} periods`);
  for (const problem of problems) process.stderr.write(`streamqc demo: ${problem}\n`);
  if (problems.length) {
    process.stderr.write("streamqc demo: see .streamqc/demo/logs/ for the workers' logs\n");
    return 1;
  }
  process.stdout.write('demo check: every alarm was an injected defect\n');
  return 0;
}

/**
 * What is wrong with a demo run: an alarm of a type not injected into its stream, or (once the
 * run lasted MISSED_CHECK_SECONDS: every injected defect and the feed cut lie in the first 50 s of
 * the streams, which start a few seconds into the run) an injected type never raised.
 */
/** A run at least this long (seconds) must have raised every injected defect. */
export const MISSED_CHECK_SECONDS = 65;

export function checkDemo(
  raised: DefectEvent[],
  names: Map<string, keyof typeof DEMO_INJECTED>,
  seconds: number,
): string[] {
  const problems: string[] = [];
  for (const e of raised) {
    const name = names.get(e.streamId);
    if (!name) continue;
    if (!DEMO_INJECTED[name].includes(e.type) && !DEMO_ARTEFACTS[name].includes(e.type))
      problems.push(`false alarm: ${e.type} on ${name} at ${e.start} s (${JSON.stringify(e.detail)})`);
  }
  if (seconds >= MISSED_CHECK_SECONDS) {
    for (const [id, name] of names) {
      for (const type of DEMO_INJECTED[name]) {
        if (!raised.some((e) => e.streamId === id && e.type === type))
          problems.push(`missed: ${type} was injected into ${name} but never raised`);
      }
    }
  }
  return problems;
}
