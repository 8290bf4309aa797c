/**
 * A logger that loads pino on its first line at an enabled level. `streamqc analyze` logs at
 * `warn` unless asked (`--verbose`): a clean run writes no line, and loading pino (with its
 * stream and serializer modules) was 0.04 CPU s of every run — more than five detectors together
 * on a minute of 720p. The lines, when there are any, are pino's own (shared/loggerOptions.ts).
 */
import type { Bindings, LogFn, pino as Pino } from 'pino';
import type { Logger } from '../shared/logger.js';
import { buildLogger, configuredLevel } from '../shared/loggerOptions.js';

const SEVERITY: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

type Level = 'debug' | 'info' | 'warn' | 'error';

class DeferredLogger implements Logger {
  private real: Logger | null = null;
  readonly debug = this.method('debug');
  readonly info = this.method('info');
  readonly warn = this.method('warn');
  readonly error = this.method('error');

  constructor(
    private readonly make: () => Logger,
    private readonly threshold: number,
  ) {}

  child(bindings: Bindings): Logger {
    return this.real
      ? this.real.child(bindings)
      : new DeferredLogger(() => this.load().child(bindings), this.threshold);
  }

  private load(): Logger {
    this.real ??= this.make();
    return this.real;
  }

  private method(level: Level): LogFn {
    const write = (...args: unknown[]) => {
      if (SEVERITY[level] < this.threshold) return;
      (this.load()[level] as (...a: unknown[]) => void)(...args);
    };
    return write as LogFn;
  }
}

/**
 * A logger named `name` at the configured level that loads pino only once a line is written.
 * An unknown level loads pino at once, so that pino refuses it as it would any logger's.
 */
export function createDeferredLogger(name: string): Logger {
  const make = () => {
    const { createRequire } = process.getBuiltinModule('node:module');
    const { pino } = createRequire(import.meta.url)('pino') as { pino: typeof Pino };
    return buildLogger(pino, name);
  };
  const level = configuredLevel();
  if (level === 'silent') return new DeferredLogger(make, Number.POSITIVE_INFINITY);
  const threshold = SEVERITY[level];
  return threshold === undefined ? make() : new DeferredLogger(make, threshold);
}
