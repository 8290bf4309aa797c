/**
 * GET /streams/{id}/loudness?from=&to=: a stream's loudness log (worker/pipeline/LoudnessLog.ts),
 * for its owner. `from`/`to` are ISO-8601 times, at most 24 h apart (default: the last 15
 * minutes). The answer holds every period overlapping them with its figures and verdict, and the
 * per-second series of the last 60 minutes of the span at most (ask again for earlier ones).
 */
import { LOUDNESS_STANDARDS } from '../../shared/loudnessStandards.js';
import {
  type LoudnessMinute,
  type LoudnessPeriod,
  type LoudnessPoint,
  loudnessMinuteKey,
} from '../../shared/media/loudnessLog.js';
import type { MediaStore } from '../../shared/media/MediaStore.js';
import { ApiError, type ApiRequest, type ApiResponse } from '../types.js';
import { ownedStream, type UseCaseContext } from './common.js';

const MINUTE = 60_000;
const MAX_SPAN = 24 * 60 * MINUTE;
const SERIES_SPAN = 60 * MINUTE;
const DEFAULT_SPAN = 15 * MINUTE;
/** A period's figures are read from its last minute written, looking back this many minutes. */
const LOOK_BACK_MINUTES = 5;
const READS_AT_ONCE = 16;

export async function getLoudness(
  ctx: UseCaseContext,
  request: ApiRequest,
  id: string,
  owner: string,
): Promise<ApiResponse> {
  const record = await ownedStream(ctx, id, owner);
  if (!record.loudness)
    throw new ApiError(404, 'not_found', 'this stream keeps no loudness log: register it with `loudness`');
  if (!ctx.media) throw new ApiError(404, 'not_found', 'this deployment keeps no media records');
  const now = Date.now();
  const to = time(request.query.to, 'to') ?? now;
  const from = time(request.query.from, 'from') ?? to - DEFAULT_SPAN;
  if (from >= to) throw new ApiError(400, 'invalid_query', '`from` must be before `to`', 'from');
  if (to - from > MAX_SPAN)
    throw new ApiError(400, 'invalid_query', 'at most 24 hours from `from` to `to`', 'to');
  const periodMs = (record.loudness.periodMinutes ?? 60) * MINUTE;
  const media = ctx.media;
  const read = (ms: number) => readMinute(media, id, ms);

  const seriesFrom = Math.max(from, to - SERIES_SPAN);
  const minutes: number[] = [];
  for (let m = Math.floor(seriesFrom / MINUTE) * MINUTE; m < Math.min(to, now); m += MINUTE) minutes.push(m);
  const series = (await inBatches(minutes, read))
    .flatMap((minute) => minute?.points ?? [])
    .filter((p: LoudnessPoint) => {
      const at = Date.parse(p.at);
      return at >= seriesFrom && at < to;
    });

  const starts: number[] = [];
  for (let p = Math.floor(from / periodMs) * periodMs; p < Math.min(to, now); p += periodMs) starts.push(p);
  const periods = (
    await inBatches(starts, async (start) => {
      const last = Math.min(start + periodMs, Math.floor(now / MINUTE) * MINUTE + MINUTE) - MINUTE;
      for (let m = last; m >= Math.max(start, last - LOOK_BACK_MINUTES * MINUTE); m -= MINUTE) {
        const minute = await read(m);
        if (minute) return minute.period;
      }
      return null;
    })
  ).filter((p): p is LoudnessPeriod => p !== null);

  return {
    status: 200,
    body: {
      streamId: id,
      standard: LOUDNESS_STANDARDS[record.loudness.standard].name,
      periodMinutes: periodMs / MINUTE,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      periods,
      seriesFrom: new Date(seriesFrom).toISOString(),
      series,
    },
  };
}

/** An ISO-8601 time from the query; undefined when absent; 400 when not a time. */
function time(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined) return undefined;
  const ms = /^\d{4}-\d\d-\d\dT/.test(raw) ? Date.parse(raw) : Number.NaN;
  if (Number.isNaN(ms))
    throw new ApiError(400, 'invalid_query', `\`${name}\` must be an ISO-8601 time`, name);
  return ms;
}

async function readMinute(media: MediaStore, id: string, ms: number): Promise<LoudnessMinute | null> {
  const bytes = await media.bytes(loudnessMinuteKey(id, ms));
  if (!bytes) return null;
  try {
    return JSON.parse(bytes.toString('utf8')) as LoudnessMinute;
  } catch {
    return null;
  }
}

/** `work` over every item, READS_AT_ONCE at a time, results in order. */
async function inBatches<T, R>(items: T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += READS_AT_ONCE)
    out.push(...(await Promise.all(items.slice(i, i + READS_AT_ONCE).map(work))));
  return out;
}
