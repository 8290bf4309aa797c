/**
 * Measures a command's CPU time (user + system, all descendants) and peak memory (summed RSS of
 * its process tree, sampled every 20 ms) on Linux, from /proc.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Measurement {
  cpuSeconds: number;
  peakRssMb: number;
  wallSeconds: number;
  exitCode: number | null;
}

const TICKS_PER_SECOND = 100;

function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

function rssKb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function treeRssKb(pid: number): number {
  let total = 0;
  for (const child of children(pid)) total += rssKb(child) + treeRssKb(child);
  return total;
}

/** Runs argv under a shell that reports its children's CPU (cutime + cstime) once they exit. */
export function measure(argv: string[]): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const shell = spawn(
      'bash',
      ['-c', '"$@" >/dev/null 2>/dev/null; code=$?; cat /proc/$$/stat; exit $code', 'measure', ...argv],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    let peak = 0;
    const poll = setInterval(() => {
      if (shell.pid) peak = Math.max(peak, treeRssKb(shell.pid));
    }, 20);
    shell.stdout.on('data', (b) => {
      out += b;
    });
    shell.on('error', reject);
    shell.on('close', (code) => {
      clearInterval(poll);
      const fields = out.slice(out.lastIndexOf(')') + 2).split(' ');
      // After the command name: field 3 is state, so cutime (16) and cstime (17) sit at 13 and 14.
      const cpu = (Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND;
      resolve({
        cpuSeconds: cpu,
        peakRssMb: peak / 1024,
        wallSeconds: Number(process.hrtime.bigint() - started) / 1e9,
        exitCode: code,
      });
    });
  });
}
