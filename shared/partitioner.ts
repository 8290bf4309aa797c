/**
 * How work is spread across workers. A stream is split into work units (by default one; with
 * detector groups, one per group), each unit hashes to one of a fixed number of virtual shards,
 * and each shard is leased by one worker. Which worker should hold a shard is decided by
 * rendezvous (highest-random-weight) hashing over the live workers: adding a worker moves only
 * the shards it now wins (about 1/N of them), removing one moves only its own.
 */
import { createHash } from 'node:crypto';
import type { DefectType } from './events.js';

/** A unit of monitoring work: one stream, or one group of a stream's detectors. */
export interface WorkUnit {
  streamId: string;
  /** Detector group name; "all" when streams are not split. */
  group: string;
  /** Detectors this unit runs. */
  detectors: DefectType[];
}

function hash32(text: string): number {
  return createHash('sha1').update(text).digest().readUInt32BE(0);
}

/** The shard a work unit belongs to. */
export function shardOf(streamId: string, group: string, shardCount: number): number {
  return hash32(`${streamId}#${group}`) % shardCount;
}

/**
 * Parses detector groups: `video=video.black+video.freeze;audio=audio.silence+audio.loudness`.
 * Types not named in any group go to the first group. Empty: a single group "all".
 */
export function parseDetectorGroups(spec: string): Map<string, Set<string>> {
  const groups = new Map<string, Set<string>>();
  for (const part of spec
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [name, types] = part.split('=');
    if (!name || !types) throw new Error(`bad detector group "${part}": expected name=type+type`);
    groups.set(name.trim(), new Set(types.split('+').map((t) => t.trim())));
  }
  return groups;
}

/** Splits a stream's detectors into work units according to the configured groups. */
export function workUnits(
  streamId: string,
  detectors: DefectType[],
  groups: Map<string, Set<string>>,
): WorkUnit[] {
  if (groups.size === 0) return [{ streamId, group: 'all', detectors }];
  const names = [...groups.keys()];
  const byGroup = new Map<string, DefectType[]>(names.map((n) => [n, []]));
  for (const type of detectors) {
    const group = names.find((n) => groups.get(n)!.has(type)) ?? names[0];
    byGroup.get(group)!.push(type);
  }
  return names
    .filter((n) => byGroup.get(n)!.length > 0)
    .map((group) => ({ streamId, group, detectors: byGroup.get(group)! }));
}

/** Workers ordered by preference for a shard (rendezvous hashing): the first should hold it. */
export function rankWorkers(shard: number, workerIds: string[]): string[] {
  return [...workerIds].sort((a, b) => hash32(`${b}/${shard}`) - hash32(`${a}/${shard}`) || (a < b ? -1 : 1));
}

/**
 * Assigns every shard to a worker: each shard goes to the highest-ranked worker that still has
 * room. `capacity` is how many shards each worker may take (Infinity for no limit).
 */
export function assignShards(
  shardCount: number,
  workerIds: string[],
  capacity: (workerId: string) => number = () => Number.POSITIVE_INFINITY,
): Map<number, string | null> {
  const taken = new Map<string, number>();
  const out = new Map<number, string | null>();
  for (let shard = 0; shard < shardCount; shard++) {
    const owner = rankWorkers(shard, workerIds).find((w) => (taken.get(w) ?? 0) < capacity(w)) ?? null;
    if (owner) taken.set(owner, (taken.get(owner) ?? 0) + 1);
    out.set(shard, owner);
  }
  return out;
}
