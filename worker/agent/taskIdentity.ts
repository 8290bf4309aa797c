/**
 * Which ECS task this worker is: the task ARN from the task metadata endpoint (v4), so a worker
 * in the registry, in a log line or in a shed reason names the task an operator can find in the
 * console, not a process id. Null outside ECS or when the endpoint does not answer in time.
 */

interface TaskMetadata {
  TaskARN?: string;
}

/**
 * The task's ARN, or null.
 * @param timeoutMs the endpoint answers locally in milliseconds; a worker never waits long for it
 */
export async function ecsTaskArn(
  env: Record<string, string | undefined> = process.env,
  timeoutMs = 2000,
): Promise<string | null> {
  const base = env.ECS_CONTAINER_METADATA_URI_V4;
  if (!base) return null;
  try {
    const r = await fetch(`${base}/task`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!r.ok) return null;
    const arn = ((await r.json()) as TaskMetadata).TaskARN;
    return typeof arn === 'string' && arn.startsWith('arn:') ? arn : null;
  } catch {
    return null;
  }
}
