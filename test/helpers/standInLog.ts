/**
 * Reads what the scale harness's stand-in workers recorded (local/ScaleHarnessStandIn.ts):
 * which units run where now, whether any unit ever ran on two workers at once, how many units
 * started after a moment (moves), and each worker's DynamoDB calls per minute.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StandInRecord } from '../../local/ScaleHarnessStandIn.js';

export function readStandIn(dir: string): StandInRecord[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ndjson'))
    .flatMap((f) =>
      readFileSync(join(dir, f), 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .flatMap((l) => {
          try {
            return [JSON.parse(l) as StandInRecord];
          } catch {
            return []; // a line cut short by a kill
          }
        }),
    )
    .sort((a, b) => a.at - b.at);
}

interface Interval {
  unitId: string;
  workerId: string;
  from: number;
  to: number;
}

/** Run intervals per unit; a killed worker's runs end when it was killed. */
function intervals(records: StandInRecord[], killedAt: Map<string, number>): Interval[] {
  const open = new Map<string, Interval>();
  const out: Interval[] = [];
  for (const r of records) {
    if (!r.unitId) continue;
    const key = `${r.workerId}|${r.unitId}`;
    if (r.event === 'start')
      open.set(key, { unitId: r.unitId, workerId: r.workerId, from: r.at, to: Infinity });
    else if (r.event === 'stop') {
      const i = open.get(key);
      if (i) out.push({ ...i, to: r.at });
      open.delete(key);
    }
  }
  for (const i of open.values()) out.push({ ...i, to: killedAt.get(i.workerId) ?? Infinity });
  return out;
}

/** unitId → workerId of every unit running now (on workers not killed). */
export function runningNow(
  records: StandInRecord[],
  killedAt = new Map<string, number>(),
): Map<string, string> {
  const now = new Map<string, string>();
  for (const i of intervals(records, killedAt)) if (i.to === Infinity) now.set(i.unitId, i.workerId);
  return now;
}

/** Units that ran on two workers at overlapping times. */
export function duplicateUnits(records: StandInRecord[], killedAt = new Map<string, number>()): string[] {
  const byUnit = new Map<string, Interval[]>();
  for (const i of intervals(records, killedAt)) byUnit.set(i.unitId, [...(byUnit.get(i.unitId) ?? []), i]);
  const dup: string[] = [];
  for (const [unitId, runs] of byUnit) {
    runs.sort((a, b) => a.from - b.from);
    if (runs.some((r, k) => k > 0 && r.from < Math.max(...runs.slice(0, k).map((p) => p.to))))
      dup.push(unitId);
  }
  return dup;
}

/** Units started after `since` (each a move: claimed anew by some worker). */
export function startsAfter(records: StandInRecord[], since: number): number {
  return records.filter((r) => r.event === 'start' && r.at > since).length;
}

/** Mean DynamoDB calls per worker per minute between two times, over workers alive throughout. */
export function callsPerWorkerMinute(records: StandInRecord[], from: number, to: number): number {
  const samples = new Map<string, StandInRecord[]>();
  for (const r of records)
    if (r.event === 'calls') samples.set(r.workerId, [...(samples.get(r.workerId) ?? []), r]);
  const rates: number[] = [];
  for (const list of samples.values()) {
    const inside = list.filter((r) => r.at >= from && r.at <= to);
    if (inside.length < 2) continue;
    const a = inside[0];
    const b = inside[inside.length - 1];
    if (b.at - a.at < (to - from) * 0.6) continue;
    rates.push(((b.calls ?? 0) - (a.calls ?? 0)) / ((b.at - a.at) / 60_000));
  }
  return rates.length ? rates.reduce((x, y) => x + y, 0) / rates.length : Number.NaN;
}
