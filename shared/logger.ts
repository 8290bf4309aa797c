/** The one pino logger factory: JSON lines, to stderr by default so stdout stays for data. */
import { type Bindings, type DestinationStream, type LogFn, type Logger as PinoLogger, pino } from 'pino';
import { buildLogger } from './loggerOptions.js';

/** What streamqc's code asks of a logger: pino's own, or the CLI's deferred one (cli/deferredLogger.ts). */
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Bindings): Logger;
}

/**
 * Creates the process logger. Every line leaves with the credentials of any URL in it masked
 * (shared/redact.ts): a stream URL may carry a password or a token, in a field or an error.
 * @param destination where lines go; defaults to stderr (fd 2).
 */
export function createLogger(name: string, destination?: DestinationStream): PinoLogger {
  return buildLogger(pino, name, destination);
}
