/** Turns `--threshold black.minDuration=2` flags into validated per-stream overrides. */
import type { PartialThresholds } from '../shared/thresholds.js';

/** A flag the user got wrong; the message names the flag. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Parses and validates the flags; loads the schema only when there is something to check. */
export async function parseThresholdFlags(flags: string[]): Promise<PartialThresholds> {
  if (flags.length === 0) return {};
  const { thresholdsSchema } = await import('../shared/thresholdsSchema.js');
  const raw: Record<string, Record<string, number>> = {};
  for (const flag of flags) {
    const m = /^([a-z]+)\.([a-zA-Z]+)=(-?[0-9.]+)$/.exec(flag);
    if (!m) throw new UsageError(`--threshold ${flag}: expected rule.name=number, e.g. black.minDuration=2`);
    raw[m[1]] ??= {};
    raw[m[1]][m[2]] = Number(m[3]);
  }
  const parsed = thresholdsSchema.partial().safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(`--threshold ${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}
