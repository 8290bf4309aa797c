/**
 * The one request handler of the streamqc API (CONTRACT.md §2). The Lambda and local HTTP
 * adapters translate to and from ApiRequest/ApiResponse; everything else happens here: the content
 * type of a body, the route (routes.ts), credentials, the method, then the use case
 * (dispatcher/streams/), with credentials in stream URLs masked in every answer.
 */
import { type OwnerQuota, ownerQuota, type SecurityConfig } from '../shared/config.js';
import type { Logger } from '../shared/logger.js';
import type { MediaStore } from '../shared/media/MediaStore.js';
import { redactDeep } from '../shared/redact.js';
import type { Registry } from '../shared/registry/Registry.js';
import type { Resolver } from '../shared/urlPolicy.js';
import { parseDetectorGroups } from '../shared/workUnits.js';
import { fleetCheck } from './fleetCheck.js';
import type { Launcher } from './launcher.js';
import { matchRoute } from './routes.js';
import { shown, type UseCaseContext } from './streams/common.js';
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
  /** Where workers keep thumbnails and evidence (absent: not kept). */
  media?: MediaStore | null;
}

/** A burst of registrations asks for capacity once per interval, not once per stream. */
const CAPACITY_CHECK_MS = 5000;

/** Builds the request handler. */
export function createHandler(deps: HandlerDeps): (request: ApiRequest) => Promise<ApiResponse> {
  const { registry, logger } = deps;
  let lastCapacityCheck = 0;
  const ctx: UseCaseContext = {
    registry,
    logger,
    security: deps.security,
    quota: deps.quota ?? ownerQuota(),
    groups: parseDetectorGroups(deps.detectorGroups),
    resolver: deps.resolver,
    media: deps.media ?? null,
    ensureCapacity: async () => {
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
    },
  };

  async function route(request: ApiRequest): Promise<ApiResponse> {
    const { method, path } = request;
    // A body must be JSON, whichever adapter (local HTTP server, Lambda) brought the request.
    if (request.body !== null) {
      const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (type !== 'application/json')
        throw new ApiError(415, 'unsupported_media_type', 'send the body as Content-Type: application/json');
    }
    // The console calls the same routes under /console/api/ (on AWS behind its own sign-in).
    const found = matchRoute(path.startsWith('/console/api/') ? path.slice('/console/api'.length) : path);
    if (!found) throw new ApiError(404, 'not_found', `no route ${shown(path)}`);
    const owner = request.owner;
    if (found.route.auth && !owner) throw new ApiError(401, 'unauthorized', 'missing or invalid credentials');
    const handle = found.route.methods[method];
    if (!handle)
      throw new ApiError(405, 'method_not_allowed', `${shown(method)} not allowed on ${shown(path)}`);
    return handle({ ctx, request, params: found.params, owner: owner ?? '', version: deps.version });
  }

  return async (request) => {
    try {
      // Credentials in stream URLs (and in errors quoting them) never leave in an answer.
      const response = await route(request);
      return response.raw ? response : { ...response, body: redactDeep(response.body) };
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
