/** What the main thread and a worker's lease thread share (LeaseKeeper, leaseThread). */

/** Positions in the shared Float64Array. */
export const SLOT = {
  /** Epoch ms at which the last successful renewal was sent (lease thread). */
  lastOk: 0,
  /** 1 once the fleet took this member over (lease thread). */
  reaped: 1,
  /** Epoch ms the main thread last showed it is alive (main thread). */
  mainAlive: 2,
  /** Units running (main thread). */
  load: 3,
  /** Budget (main thread). */
  budget: 4,
  /** 1 while draining (main thread). */
  draining: 5,
  /** Renewals that succeeded (lease thread). */
  beats: 6,
  /** Renewals that failed (lease thread). */
  failures: 7,
  /** 1 while the lease thread holds back because the main thread stopped answering. */
  mainStalled: 8,
} as const;
export const SLOTS = 9;

export interface LeaseThreadData {
  buffer: SharedArrayBuffer;
  workerId: string;
  leaseMs: number;
  heartbeatMs: number;
  /** The lease thread stops renewing once the main thread has been silent this long. */
  mainSilenceMs: number;
}
