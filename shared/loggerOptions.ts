/**
 * How every streamqc logger is made, given pino itself: shared/logger.ts passes the statically
 * imported module; the CLI's deferred logger (cli/deferredLogger.ts) the one it loads on its first
 * line, so that a run that logs nothing does not load pino at all.
 */
import type { DestinationStream, Logger, pino as Pino } from 'pino';
import { redactUrls } from './redact.js';

/** The level every logger starts at: STREAMQC_LOG_LEVEL, else LOG_LEVEL, else info. */
export function configuredLevel(): string {
  return process.env.STREAMQC_LOG_LEVEL ?? process.env.LOG_LEVEL ?? 'info';
}

/**
 * A pino logger whose every line leaves with the credentials of any URL in it masked.
 * @param destination where lines go; defaults to stderr (fd 2).
 */
export function buildLogger(pino: typeof Pino, name: string, destination?: DestinationStream): Logger {
  const out = destination ?? pino.destination(2);
  const redacting: DestinationStream = { write: (line: string) => out.write(redactUrls(line)) };
  return pino({ name, level: configuredLevel(), base: { pid: process.pid } }, redacting);
}
