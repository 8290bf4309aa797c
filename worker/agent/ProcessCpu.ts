/**
 * CPU seconds used by a unit's successive ffmpeg processes, read from /proc/<pid>/stat (sampled:
 * a process's time counts up to the last sample before it exited).
 */
import { readFileSync } from 'node:fs';

/** Clock ticks a second in /proc (USER_HZ on Linux). */
const CLOCK_TICKS = 100;

export class ProcessCpu {
  private ticksDone = 0;
  private lastPid: number | undefined;
  private lastPidTicks = 0;

  /** Seconds so far, with `pid` the process running now (undefined: none). */
  seconds(pid: number | undefined): number {
    if (pid !== this.lastPid) {
      this.ticksDone += this.lastPidTicks;
      this.lastPid = pid;
      this.lastPidTicks = 0;
    }
    if (pid) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        this.lastPidTicks = Number(fields[11]) + Number(fields[12]);
      } catch {
        // The process has just exited; keep the last sample.
      }
    }
    return (this.ticksDone + this.lastPidTicks) / CLOCK_TICKS;
  }
}
