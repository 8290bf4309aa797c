/**
 * The body of a worker's lease thread (see LeaseKeeper): renews the worker's fleet lease on its
 * own schedule and event loop, so media work that keeps the main thread busy cannot make the
 * worker look dead to its peers. It stops renewing when the main thread itself has stopped
 * answering for too long (then the units really are not being watched, and peers should take
 * them), and reports a takeover (the member was reaped) to the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { setAwsCallerRole } from '../../shared/awsCallLog.js';
import type { RegistryConfig } from '../../shared/config.js';
import { Registry } from '../../shared/registry/Registry.js';
import { type LeaseThreadData, SLOT } from './leaseSlots.js';

const data = workerData as LeaseThreadData & { config: RegistryConfig; env: Record<string, string> };
const shared = new Float64Array(data.buffer);
setAwsCallerRole('worker');
const registry = new Registry(data.config, data.env);
let memberId: string | null = null;
let stopping = false;
let wake: (() => void) | null = null;

parentPort?.on('message', (message: { type: 'member'; memberId: string } | { type: 'stop' }) => {
  if (message.type === 'member') {
    memberId = message.memberId;
    shared[SLOT.reaped] = 0;
  } else stopping = true;
  wake?.();
});

async function beatOnce(): Promise<void> {
  if (!memberId || shared[SLOT.reaped]) return;
  const started = Date.now();
  if (started - shared[SLOT.mainAlive] > data.mainSilenceMs) {
    shared[SLOT.mainStalled] = 1;
    return;
  }
  shared[SLOT.mainStalled] = 0;
  try {
    const ok = await registry.fleet.beat({
      memberId,
      workerId: data.workerId,
      leaseUntil: started + data.leaseMs,
      budget: shared[SLOT.budget],
      load: shared[SLOT.load],
      draining: shared[SLOT.draining] === 1,
    });
    if (ok) {
      shared[SLOT.lastOk] = started;
      shared[SLOT.beats]++;
    } else {
      shared[SLOT.reaped] = 1;
    }
  } catch {
    shared[SLOT.failures]++;
  }
}

/** A renewal still unanswered: the next one waits for it rather than piling up behind it. */
let pending: Promise<void> | null = null;
while (!stopping) {
  if (!pending)
    pending = beatOnce().finally(() => {
      pending = null;
    });
  // An unanswered renewal counts as failed after half a lease (the registry may be gone).
  const answered = await Promise.race([
    pending.then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), data.leaseMs / 2)),
  ]);
  if (!answered) shared[SLOT.failures]++;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, data.heartbeatMs);
    wake = () => {
      clearTimeout(timer);
      resolve();
    };
  });
  wake = null;
}
registry.destroy();
