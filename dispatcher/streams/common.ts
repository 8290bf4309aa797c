/** What the stream use cases share: their dependencies, the stream view, ids, limits, ownership. */
import type { OwnerQuota, SecurityConfig } from '../../shared/config.js';
import type { Logger } from '../../shared/logger.js';
import type { MediaStore } from '../../shared/media/MediaStore.js';
import type { Registry } from '../../shared/registry/Registry.js';
import { type StreamRecord, slateType } from '../../shared/streamSpec.js';
import type { Resolver } from '../../shared/urlPolicy.js';
import { ApiError } from '../types.js';

/** What every use case may use (built once by createHandler). */
export interface UseCaseContext {
  registry: Registry;
  logger: Logger;
  security: SecurityConfig;
  quota: OwnerQuota;
  /** Detector groups (STREAMQC_DETECTOR_GROUPS): how a stream splits into work units. */
  groups: Map<string, Set<string>>;
  resolver?: Resolver;
  /** Where workers keep thumbnails and evidence (null: not kept). */
  media: MediaStore | null;
  /** Asks for worker capacity after a registration (at most once per interval). */
  ensureCapacity: () => Promise<void>;
}

export const STREAM_ID = /^st_[a-z0-9]{20}$/;

/** What of a client's input an error message repeats: at most 64 characters, printable only. */
export function shown(value: string): string {
  const printable = value.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 64 ? `${printable.slice(0, 64)}…` : printable;
}

/** What the API shows of a stream. */
export function view(record: StreamRecord) {
  return {
    id: record.id,
    url: record.url,
    name: record.name,
    state: record.state,
    detectors: record.detectors,
    thresholds: record.thresholds,
    labels: record.labels,
    expect: record.expect,
    ...(record.decode ? { decode: record.decode } : {}),
    ...(record.loudness ? { loudness: record.loudness } : {}),
    ...(record.rendition ? { rendition: record.rendition } : {}),
    ...(record.verifyTls === false ? { verifyTls: false } : {}),
    // The picture itself is not shown again: its type and size say which one is in force.
    ...(record.slate
      ? { slate: { type: slateType(record.slate), bytes: Buffer.byteLength(record.slate, 'base64') } }
      : {}),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

/** A `limit` query parameter: 1–max, `fallback` when absent. */
export function parseLimit(raw: string | undefined, max: number, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new ApiError(400, 'invalid_query', `limit must be 1–${max}`, 'limit');
  return n;
}

/** The caller's active stream; 404 alike for malformed ids, missing streams and other owners' streams. */
export async function ownedStream(ctx: UseCaseContext, id: string, owner: string): Promise<StreamRecord> {
  const record = STREAM_ID.test(id) ? await ctx.registry.streams.get(id) : null;
  if (!record || record.owner !== owner || record.state !== 'active') {
    throw new ApiError(404, 'not_found', `no stream ${shown(id)}`);
  }
  return record;
}
