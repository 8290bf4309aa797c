/** What one stream may ask of its origin: a burst, then a steady rate (a token bucket). */

/** Requests one stream may make: a burst, then a steady rate (requests per second). */
export interface RequestBudget {
  burst: number;
  perSecond: number;
}

/** Enough for ABR masters with several renditions at 1 s segments; far below a playlist loop. */
export const DEFAULT_BUDGET: RequestBudget = { burst: 60, perSecond: 20 };

export class TokenBucket {
  private tokens: number;
  private refilledAt = Date.now();

  constructor(readonly budget: RequestBudget) {
    this.tokens = budget.burst;
  }

  /** Takes one request; false when the budget is spent for now. */
  take(now = Date.now()): boolean {
    this.tokens = Math.min(
      this.budget.burst,
      this.tokens + ((now - this.refilledAt) / 1000) * this.budget.perSecond,
    );
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
