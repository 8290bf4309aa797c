/**
 * The one request handler of the streamqc API (CONTRACT.md §2). The Lambda and local HTTP
 * adapters translate to and from ApiRequest/ApiResponse; everything else happens here.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type OwnerQuota, ownerQuota, type SecurityConfig } from '../shared/config.js';
import { DEFECT_TYPES, type DefectEvent } from '../shared/events.js';
import type { Logger } from '../shared/logger.js';
import { redactDeep } from '../shared/redact.js';
import { ALL_SINKS } from '../shared/registry/outbox.js';
import { type Registry, unitId } from '../shared/registry/Registry.js';
import { checkableUrl } from '../shared/secretRefs.js';
import { type StreamRecord, streamSpecSchema } from '../shared/streamSpec.js';
import { checkSource, type Resolver, UrlPolicyError } from '../shared/urlPolicy.js';
import { parseDetectorGroups, workUnits } from '../shared/workUnits.js';
import { fleetCheck } from './fleetCheck.js';
import type { Launcher } from './launcher.js';
import { ApiError, type ApiRequest, type ApiResponse } from './types.js';

export interface HandlerDeps {
  registry: Registry;
  security: SecurityConfig;
  launcher: Launcher;
  logger: Logger;
  version: string;
  detectorGroups: string;
  workerBudget: number;
  minWorkers: number;
  maxWorkers: number;
  /** Per-owner limits (defaults: shared/config.ts ownerQuota). */
  quota?: OwnerQuota;
  resolver?: Resolver;
}

const STREAM_ID = /^st_[a-z0-9]{20}$/;

/** What of a client's input an error message repeats: at most 64 characters, printable only. */
function shown(value: string): string {
  const printable = value.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 64 ? `${printable.slice(0, 64)}…` : printable;
}
const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{1,128}$/;
const CAPACITY_CHECK_MS = 5000;

function newStreamId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return `st_${Array.from(randomBytes(20), (b) => alphabet[b % 36]).join('')}`;
}

/** What the API shows of a stream. */
function view(record: StreamRecord) {
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
    ...(record.rendition ? { rendition: record.rendition } : {}),
    ...(record.verifyTls === false ? { verifyTls: false } : {}),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

function parseLimit(raw: string | undefined, max: number, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new ApiError(400, 'invalid_query', `limit must be 1–${max}`, 'limit');
  return n;
}

/** Builds the request handler. */
export function createHandler(deps: HandlerDeps): (request: ApiRequest) => Promise<ApiResponse> {
  const groups = parseDetectorGroups(deps.detectorGroups);
  const { registry, logger } = deps;
  const quota = deps.quota ?? ownerQuota();

  /** Refuses a new registration past the owner's quota (429, with when to try again). */
  async function enforceQuota(owner: string): Promise<void> {
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

  // A burst of registrations asks for capacity once per interval, not once per stream.
  let lastCapacityCheck = 0;
  async function ensureCapacity(): Promise<void> {
    if (Date.now() - lastCapacityCheck < CAPACITY_CHECK_MS) return;
    lastCapacityCheck = Date.now();
    try {
      await fleetCheck({
        registry,
        launcher: deps.launcher,
        logger,
        budget: deps.workerBudget,
        minWorkers: deps.minWorkers,
        maxWorkers: deps.maxWorkers,
      });
    } catch (e) {
      logger.warn({ err: (e as Error).message }, 'could not ensure worker capacity');
    }
  }

  async function ownedStream(id: string, owner: string): Promise<StreamRecord> {
    // 404 for malformed ids, missing streams and other owners' streams alike: existence never leaks.
    const record = STREAM_ID.test(id) ? await registry.streams.get(id) : null;
    if (!record || record.owner !== owner || record.state !== 'active') {
      throw new ApiError(404, 'not_found', `no stream ${shown(id)}`);
    }
    return record;
  }

  async function createStream(request: ApiRequest, owner: string): Promise<ApiResponse> {
    if (!request.body) throw new ApiError(400, 'invalid_json', 'request body must be a JSON object');
    let json: unknown;
    try {
      json = JSON.parse(request.body);
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
    const spec = parsed.data;
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
      checked = await checkSource(checkableUrl(spec.url), deps.security, deps.resolver);
    } catch (e) {
      if (e instanceof UrlPolicyError) throw new ApiError(400, e.code, e.message, 'url');
      throw e;
    }
    const now = new Date().toISOString();
    const id = newStreamId();
    const detectors = spec.detectors ?? [...DEFECT_TYPES];
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
      ...(spec.rendition ? { rendition: spec.rendition } : {}),
      ...(spec.verifyTls === false ? { verifyTls: false } : {}),
      units: workUnits(id, detectors, groups).map((u) => ({ group: u.group, detectors: u.detectors })),
      state: 'active',
      createdAt: now,
      updatedAt: now,
    };
    // A retry of a registration already made is answered as such, whatever the quota says now.
    if (!(idemKey && (await registry.streams.keyUsed(owner, idemKey)))) await enforceQuota(owner);
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
      await ensureCapacity();
    }
    // A replay answers 200 with Idempotent-Replayed: the stream was created by the first request.
    return {
      status: created ? 201 : 200,
      headers: created ? {} : { 'idempotent-replayed': 'true' },
      body: view(result.record),
    };
  }

  async function getStream(id: string, owner: string): Promise<ApiResponse> {
    const record = await ownedStream(id, owner);
    const [assignment, health, alarms] = await Promise.all([
      assignmentOf(record),
      healthOf(record),
      registry.alarms.openFor(id),
    ]);
    return {
      status: 200,
      body: { ...view(record), assignment, health, openAlarms: alarms.map((a) => a.event) },
    };
  }

  /**
   * Where each unit runs: `running` on a live worker, `waiting` (with the reason and since when),
   * `moving` while the worker holding it has stopped heartbeating and is being taken over, or
   * `quarantined` when workers kept dying under it (never handed on; delete the stream to stop).
   */
  async function assignmentOf(record: StreamRecord) {
    const ids = record.units.map((u) => unitId(record.id, u.group));
    const units = new Map((await registry.units.getMany(ids)).map((u) => [u.unitId, u]));
    return Promise.all(
      record.units.map(async (u) => {
        const unit = units.get(unitId(record.id, u.group));
        const base = { group: u.group, detectors: u.detectors };
        if (unit?.holder) {
          const member = await registry.fleet.get(unit.holder);
          const workerId = member?.workerId ?? unit.holder.split('#')[0];
          const since = new Date(unit.heldSince ?? 0).toISOString();
          if (member && member.leaseUntil >= Date.now() && !member.reaped)
            return { ...base, state: 'running', workerId, since };
          return {
            ...base,
            state: 'moving',
            workerId,
            since,
            reason: `worker ${workerId} stopped heartbeating`,
          };
        }
        if (unit?.quarantined)
          return {
            ...base,
            state: 'quarantined',
            workerId: null,
            since: new Date(unit.quarantinedAt ?? 0).toISOString(),
            reason: unit.quarantined,
            strikes: unit.strikes ?? 0,
          };
        return {
          ...base,
          state: 'waiting',
          workerId: null,
          since: unit?.waitingSince ? new Date(unit.waitingSince).toISOString() : record.createdAt,
          reason: unit?.waitReason ?? 'waiting for a worker with room',
        };
      }),
    );
  }

  async function healthOf(record: StreamRecord) {
    const byUnit = await registry.health.getMany(record.units.map((u) => unitId(record.id, u.group)));
    return Object.fromEntries(
      record.units.flatMap((u) => {
        const h = byUnit.get(unitId(record.id, u.group));
        return h ? [[u.group, h]] : [];
      }),
    );
  }

  async function deleteStream(id: string, owner: string): Promise<ApiResponse> {
    if (!STREAM_ID.test(id)) throw new ApiError(404, 'not_found', `no stream ${shown(id)}`);
    const record = await registry.streams.delete(id, owner);
    if (!record) throw new ApiError(404, 'not_found', `no stream ${shown(id)}`);
    let cleared = 0;
    const mediaTime = Math.max(0, ...Object.values(await healthOf(record)).map((h) => h.mediaTime ?? 0));
    for (const alarm of await registry.alarms.openFor(id)) {
      const event: DefectEvent = {
        ...alarm.event,
        state: 'cleared',
        end: Math.max(alarm.event.start, mediaTime),
        wallEnd: new Date().toISOString(),
        detail: { ...alarm.event.detail, reason: 'stream deleted' },
        owner: record.owner,
      };
      if (!(await registry.alarms.close(event))) continue;
      await registry.alarms.record(event);
      await registry.outbox.enqueue(event, [ALL_SINKS]);
      cleared++;
    }
    logger.info({ streamId: id, owner, clearedAlarms: cleared }, 'stream deleted');
    return { status: 200, body: { id, state: 'deleted', clearedAlarms: cleared } };
  }

  async function route(request: ApiRequest): Promise<ApiResponse> {
    const { method, path } = request;
    // A body must be JSON, whichever adapter (local HTTP server, Lambda) brought the request.
    if (request.body !== null) {
      const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (type !== 'application/json')
        throw new ApiError(415, 'unsupported_media_type', 'send the body as Content-Type: application/json');
    }
    if (path === '/health') {
      if (method !== 'GET')
        throw new ApiError(405, 'method_not_allowed', `${shown(method)} not allowed on ${shown(path)}`);
      return { status: 200, body: { status: 'ok', version: deps.version } };
    }
    const parts = path.split('/').filter(Boolean);
    if (parts[0] !== 'streams' || parts.length > 3 || (parts.length === 3 && parts[2] !== 'defects')) {
      throw new ApiError(404, 'not_found', `no route ${shown(path)}`);
    }
    const owner = request.owner;
    if (!owner) throw new ApiError(401, 'unauthorized', 'missing or invalid credentials');
    const allow = (methods: string[]) => {
      if (!methods.includes(method))
        throw new ApiError(405, 'method_not_allowed', `${shown(method)} not allowed on ${shown(path)}`);
    };
    if (parts.length === 1) {
      allow(['GET', 'POST']);
      if (method === 'POST') return createStream(request, owner);
      const limit = parseLimit(request.query.limit, 100, 50);
      let page: Awaited<ReturnType<Registry['streams']['list']>>;
      try {
        page = await registry.streams.list(owner, limit, request.query.cursor);
      } catch (e) {
        if (request.query.cursor) throw new ApiError(400, 'invalid_query', 'cursor is not valid', 'cursor');
        throw e;
      }
      return { status: 200, body: { items: page.items.map(view), nextCursor: page.cursor ?? null } };
    }
    const id = parts[1];
    if (parts.length === 3) {
      allow(['GET']);
      await ownedStream(id, owner);
      const limit = parseLimit(request.query.limit, 500, 100);
      return { status: 200, body: { items: await registry.alarms.recent(id, limit) } };
    }
    allow(['GET', 'DELETE']);
    return method === 'GET' ? getStream(id, owner) : deleteStream(id, owner);
  }

  return async (request) => {
    try {
      // Credentials in stream URLs (and in errors quoting them) never leave in an answer.
      const response = await route(request);
      return { ...response, body: redactDeep(response.body) };
    } catch (e) {
      if (e instanceof ApiError) return e.toResponse();
      logger.error(
        { err: (e as Error).message, stack: (e as Error).stack, path: request.path },
        'request failed',
      );
      return new ApiError(500, 'internal', 'internal error').toResponse();
    }
  };
}
