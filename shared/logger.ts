/** The one pino logger factory: JSON lines, to stderr by default so stdout stays for data. */
import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger } from 'pino';

/**
 * Creates the process logger.
 * @param destination where lines go; defaults to stderr (fd 2).
 */
export function createLogger(name: string, destination?: DestinationStream): Logger {
  const level = process.env.STREAMQC_LOG_LEVEL ?? process.env.LOG_LEVEL ?? 'info';
  return pino({ name, level, base: { pid: process.pid } }, destination ?? pino.destination(2));
}
