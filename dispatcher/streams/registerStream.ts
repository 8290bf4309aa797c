/** POST /streams: registers a stream (validated, URL checked, quota, idempotent retries). */
import { createHash, randomBytes } from 'node:crypto';
import { DEFAULT_DETECTORS } from '../../shared/events.js';
import { checkableUrl } from '../../shared/secretRefs.js';
import { type StreamRecord, streamSpecSchema } from '../../shared/streamSpec.js';
import { checkSource, UrlPolicyError } from '../../shared/urlPolicy.js';
import { workUnits } from '../../shared/workUnits.js';
import { ApiError, type ApiRequest, type ApiResponse } from '../types.js';
import { type UseCaseContext, view } from './common.js';

const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{1,128}$/;

function newStreamId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return `st_${Array.from(randomBytes(20), (b) => alphabet[b % 36]).join('')}`;
}

/** Refuses a new registration past the owner's quota (429, with when to try again). */
async function enforceQuota(ctx: UseCaseContext, owner: string): Promise<void> {
  const { registry, quota } = ctx;
  const active = await registry.streams.activeCount(owner, quota.maxStreams);
  if (active >= quota.maxStreams)
    throw new ApiError(
      429,
      'quota_exceeded',
      `this owner has ${active} active streams, the most allowed (${quota.maxStreams}); delete one first`,
      undefined,
      { 'retry-after': '60' },
    );
  if (!(await registry.streams.countRegistration(owner, quota.registrationsPerMinute)))
    throw new ApiError(
      429,
      'rate_limited',
      `more than ${quota.registrationsPerMinute} registrations this minute; retry after the minute`,
      undefined,
      { 'retry-after': String(60 - (Math.floor(Date.now() / 1000) % 60)) },
    );
}

/** The body as a stream spec, or 400 naming the first field wrong. */
function parseSpec(body: string | null) {
  if (!body) throw new ApiError(400, 'invalid_json', 'request body must be a JSON object');
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new ApiError(400, 'invalid_json', 'request body is not valid JSON');
  }
  const parsed = streamSpecSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    const field = [...issue.path, ...keys.slice(0, 1)].join('.') || undefined;
    const message = keys.length ? `unknown field ${keys.join(', ')}` : issue.message;
    throw new ApiError(400, 'invalid_field', field ? `${field}: ${message}` : message, field);
  }
  return parsed.data;
}

export async function registerStream(
  ctx: UseCaseContext,
  request: ApiRequest,
  owner: string,
): Promise<ApiResponse> {
  const { registry, logger } = ctx;
  const spec = parseSpec(request.body);
  const idemKey = request.headers['idempotency-key'];
  if (idemKey !== undefined && !IDEMPOTENCY_KEY.test(idemKey)) {
    throw new ApiError(
      400,
      'invalid_header',
      'Idempotency-Key: 1–128 of A-Z a-z 0-9 _ . : -',
      'Idempotency-Key',
    );
  }
  let checked: Awaited<ReturnType<typeof checkSource>>;
  try {
    // Secret references are checked for form and place; the host is checked as for any URL.
    checked = await checkSource(checkableUrl(spec.url), ctx.security, ctx.resolver);
  } catch (e) {
    if (e instanceof UrlPolicyError) throw new ApiError(400, e.code, e.message, 'url');
    throw e;
  }
  const now = new Date().toISOString();
  const id = newStreamId();
  const detectors = spec.detectors ?? [...DEFAULT_DETECTORS];
  const record: StreamRecord = {
    id,
    owner,
    url: spec.url,
    name: spec.name ?? checked.host ?? spec.url.split('/').pop() ?? id,
    detectors,
    thresholds: spec.thresholds ?? {},
    labels: spec.labels ?? {},
    expect: spec.expect ?? { audio: true, video: true },
    ...(spec.decode ? { decode: spec.decode } : {}),
    ...(spec.loudness ? { loudness: spec.loudness } : {}),
    ...(spec.rendition ? { rendition: spec.rendition } : {}),
    ...(spec.verifyTls === false ? { verifyTls: false } : {}),
    ...(spec.slate ? { slate: spec.slate } : {}),
    units: workUnits(id, detectors, ctx.groups).map((u) => ({ group: u.group, detectors: u.detectors })),
    state: 'active',
    createdAt: now,
    updatedAt: now,
  };
  // A retry of a registration already made is answered as such, whatever the quota says now.
  if (!(idemKey && (await registry.streams.keyUsed(owner, idemKey)))) await enforceQuota(ctx, owner);
  const bodyHash = createHash('sha256').update(JSON.stringify(spec)).digest('hex');
  const result = await registry.streams.create(record, idemKey ? { key: idemKey, bodyHash } : undefined);
  if (result.outcome === 'conflict') {
    throw new ApiError(
      409,
      'idempotency_conflict',
      'this Idempotency-Key was used with a different body',
      'Idempotency-Key',
    );
  }
  if (result.outcome === 'in-progress') {
    throw new ApiError(
      409,
      'idempotency_in_progress',
      'a request with this Idempotency-Key is still in progress; retry shortly',
      'Idempotency-Key',
      { 'retry-after': '1' },
    );
  }
  const created = result.outcome === 'created';
  if (created) {
    logger.info({ streamId: id, owner, units: record.units.length }, 'stream registered');
    await ctx.ensureCapacity();
  }
  // A replay answers 200 with Idempotent-Replayed: the stream was created by the first request.
  return {
    status: created ? 201 : 200,
    headers: created ? {} : { 'idempotent-replayed': 'true' },
    body: view(result.record),
  };
}
