/** GET /streams (the caller's streams, a page at a time) and GET /streams/{id}/defects. */
import type { Registry } from '../../shared/registry/Registry.js';
import { ApiError, type ApiRequest, type ApiResponse } from '../types.js';
import { ownedStream, parseLimit, type UseCaseContext, view } from './common.js';

export async function listStreams(
  ctx: UseCaseContext,
  request: ApiRequest,
  owner: string,
): Promise<ApiResponse> {
  const limit = parseLimit(request.query.limit, 100, 50);
  let page: Awaited<ReturnType<Registry['streams']['list']>>;
  try {
    page = await ctx.registry.streams.list(owner, limit, request.query.cursor);
  } catch (e) {
    if (request.query.cursor) throw new ApiError(400, 'invalid_query', 'cursor is not valid', 'cursor');
    throw e;
  }
  return { status: 200, body: { items: page.items.map(view), nextCursor: page.cursor ?? null } };
}

/** The stream's recent events, newest first. */
export async function listDefects(
  ctx: UseCaseContext,
  request: ApiRequest,
  id: string,
  owner: string,
): Promise<ApiResponse> {
  await ownedStream(ctx, id, owner);
  const limit = parseLimit(request.query.limit, 500, 100);
  return { status: 200, body: { items: await ctx.registry.alarms.recent(id, limit) } };
}
