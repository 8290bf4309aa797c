/** What tests of the local stack do over and over: call the API, read the NDJSON sink, wait. */
import type { LocalStack } from '../../local/localStack.js';

/** Polls check() every 250 ms until it returns a value; fails after `seconds`. */
export async function until<T>(
  what: string,
  seconds: number,
  check: () => Promise<T | undefined> | T | undefined,
): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** One API call with the stack's key; the body parsed as JSON. */
export async function callApi(base: string, key: string, method: string, path: string, body?: unknown) {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies; the assertions check their shape
  return { status: r.status, body: (await r.json()) as any };
}

/**
 * Kills (SIGKILL) the local-stack worker that runs a stream's unit and waits until another worker
 * has taken it over and reports its health; resolves with the new worker's id.
 */
export async function killItsWorker(
  stack: Pick<LocalStack, 'url' | 'apiKey' | 'launcher'>,
  streamId: string,
  seconds = 30,
): Promise<string> {
  const get = async () => (await callApi(stack.url, stack.apiKey!, 'GET', `/streams/${streamId}`)).body;
  const before = (await get()).assignment[0].workerId as string;
  stack.launcher.children.get(before)!.process.kill('SIGKILL');
  const after = await until('the unit taken over by another worker', seconds, async () => {
    const s = await get();
    const worker = s.assignment[0].workerId as string | null;
    return worker && worker !== before && s.health.all?.workerId === worker ? worker : undefined;
  });
  return after;
}
