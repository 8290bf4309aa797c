/**
 * Writes a unit's health to the registry when what a user reads in it changes (worker, state,
 * restarts, error, decoder input), and once a minute otherwise: media time and lag in the API are
 * then up to a minute old (metrics are live). A failed write is logged and tried at the next call.
 */
import type { Logger } from '../../shared/logger.js';
import type { Registry } from '../../shared/registry/Registry.js';
import type { StreamHealth } from '../../shared/streamSpec.js';

/** Health is written when what a user reads in it changes, and otherwise this often. */
const HEALTH_REFRESH_MS = 60_000;

export class HealthWriter {
  private last: { key: string; at: number } | null = null;

  constructor(
    private readonly registry: Pick<Registry, 'health'>,
    private readonly unitId: string,
    private readonly log: Logger,
  ) {}

  async write(health: StreamHealth): Promise<void> {
    const key = JSON.stringify([
      health.workerId,
      health.state,
      health.restarts,
      health.lastError,
      health.decoderInput,
    ]);
    const now = Date.now();
    if (this.last?.key === key && now - this.last.at < HEALTH_REFRESH_MS) return;
    try {
      await this.registry.health.put(this.unitId, health);
      this.last = { key, at: now };
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'could not report health');
    }
  }
}
