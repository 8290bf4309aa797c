/**
 * ECS task scale-in protection: a task that runs streams asks the ECS agent not to be chosen for
 * scale-in (the autoscaler would otherwise stop a busy task and move its streams for nothing);
 * an idle task drops the protection. Outside ECS (no ECS_AGENT_URI) it does nothing.
 */
import type { Logger } from '../../shared/logger.js';

/** Protection lasts this long unless renewed, so a hung worker cannot block scale-in forever. */
const EXPIRES_MINUTES = 30;
const RENEW_MS = 10 * 60 * 1000;

export class TaskProtection {
  private protectedSince: number | null = null;

  constructor(
    private readonly agentUri: string | undefined,
    private readonly logger: Logger,
  ) {}

  /** Sets protection to match whether the task holds streams; renews it before it expires. */
  async update(busy: boolean): Promise<void> {
    if (!this.agentUri) return;
    const now = Date.now();
    const current = this.protectedSince !== null;
    if (busy === current && (!busy || now - (this.protectedSince ?? now) < RENEW_MS)) return;
    try {
      const response = await fetch(`${this.agentUri}/task-protection/v1/state`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(
          busy
            ? { ProtectionEnabled: true, ExpiresInMinutes: EXPIRES_MINUTES }
            : { ProtectionEnabled: false },
        ),
        signal: AbortSignal.timeout(5000),
      });
      if (!response.ok) throw new Error(`ECS agent answered ${response.status}`);
      this.protectedSince = busy ? now : null;
      this.logger.info({ protected: busy }, 'task scale-in protection updated');
    } catch (e) {
      this.logger.warn({ err: (e as Error).message }, 'could not update task scale-in protection');
    }
  }
}
