/**
 * CPU seconds the whole machine (or the task's VM on Fargate) has spent busy so far, from
 * /proc/stat. A worker's own use says what its streams cost; the machine's says what is left, and
 * other processes on the same cores (another worker, the senders of a test, a noisy neighbour in
 * a shared VM) take from the same cores. Null where /proc/stat cannot be read (not Linux).
 */
import { readFileSync } from 'node:fs';

/** USER_HZ: the unit of /proc/stat's counters on every Linux Node runs on. */
const TICKS_PER_SECOND = 100;

export function hostBusyCpuSeconds(): number | null {
  let line: string;
  try {
    line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  } catch {
    return null;
  }
  // cpu  user nice system idle iowait irq softirq steal guest guest_nice
  const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (fields.length < 8 || fields.some((n) => !Number.isFinite(n))) return null;
  const [user, nice, system, , , irq, softirq, steal] = fields;
  // Steal is time the hypervisor gave to someone else: not available to us either.
  return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND;
}
