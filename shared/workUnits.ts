/**
 * How a stream is split into work units: by default one; with detector groups, one per group
 * (e.g. video and audio detectors on different workers). Each unit is leased on its own
 * (shared/registry/units.ts).
 */
import type { DefectType } from './events.js';

/** A unit of monitoring work: one stream, or one group of a stream's detectors. */
export interface WorkUnit {
  streamId: string;
  /** Detector group name; "all" when streams are not split. */
  group: string;
  /** Detectors this unit runs. */
  detectors: DefectType[];
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
