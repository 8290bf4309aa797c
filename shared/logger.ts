/** The one pino logger factory: JSON lines, to stderr by default so stdout stays for data. */
import { type DestinationStream, type Logger, pino } from 'pino';
import { redactUrls } from './redact.js';

export type { Logger } from 'pino';

/**
 * Creates the process logger. Every line leaves with the credentials of any URL in it masked
 * (shared/redact.ts): a stream URL may carry a password or a token, in a field or an error.
 * @param destination where lines go; defaults to stderr (fd 2).
 */
export function createLogger(name: string, destination?: DestinationStream): Logger {
  const level = process.env.STREAMQC_LOG_LEVEL ?? process.env.LOG_LEVEL ?? 'info';
  const out = destination ?? pino.destination(2);
  const redacting: DestinationStream = { write: (line: string) => out.write(redactUrls(line)) };
  return pino({ name, level, base: { pid: process.pid } }, redacting);
}
