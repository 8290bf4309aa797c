/**
 * The API's route table (CONTRACT.md §2): each path with the methods it answers and the use case
 * that answers each. Paths are matched segment by segment; `{id}` matches any one segment.
 */

import { consoleFile } from './console/files.js';
import type { UseCaseContext } from './streams/common.js';
import { deleteStream } from './streams/deleteStream.js';
import { getStream } from './streams/getStream.js';
import { listDefects, listStreams } from './streams/listStreams.js';
import { getLoudness } from './streams/loudness.js';
import { getEvidence, getThumbnail } from './streams/media.js';
import { registerStream } from './streams/registerStream.js';
import type { ApiRequest, ApiResponse } from './types.js';

/** What a use case is called with: the request, its path parameters, and the caller. */
export interface RouteCall {
  ctx: UseCaseContext;
  request: ApiRequest;
  params: Record<string, string>;
  /** The authenticated caller (an empty string on routes without authentication). */
  owner: string;
  version: string;
}

export interface Route {
  path: string;
  /** false: answered without credentials. */
  auth: boolean;
  methods: Partial<Record<string, (call: RouteCall) => Promise<ApiResponse>>>;
}

export const ROUTES: readonly Route[] = [
  {
    path: '/health',
    auth: false,
    methods: { GET: async ({ version }) => ({ status: 200, body: { status: 'ok', version } }) },
  },
  {
    path: '/streams',
    auth: true,
    methods: {
      GET: ({ ctx, request, owner }) => listStreams(ctx, request, owner),
      POST: ({ ctx, request, owner }) => registerStream(ctx, request, owner),
    },
  },
  {
    path: '/streams/{id}',
    auth: true,
    methods: {
      GET: ({ ctx, params, owner }) => getStream(ctx, params.id, owner),
      DELETE: ({ ctx, params, owner }) => deleteStream(ctx, params.id, owner),
    },
  },
  {
    path: '/streams/{id}/thumbnail',
    auth: true,
    methods: { GET: ({ ctx, params, owner }) => getThumbnail(ctx, params.id, owner) },
  },
  {
    path: '/streams/{id}/evidence/{file}',
    auth: true,
    methods: { GET: ({ ctx, params, owner }) => getEvidence(ctx, params.id, params.file, owner) },
  },
  {
    path: '/streams/{id}/loudness',
    auth: true,
    methods: { GET: ({ ctx, request, params, owner }) => getLoudness(ctx, request, params.id, owner) },
  },
  {
    path: '/console',
    auth: false,
    methods: { GET: async () => consoleFile('index.html') },
  },
  {
    path: '/console/{file}',
    auth: false,
    methods: { GET: async ({ params }) => consoleFile(params.file) },
  },
  {
    path: '/streams/{id}/defects',
    auth: true,
    methods: { GET: ({ ctx, request, params, owner }) => listDefects(ctx, request, params.id, owner) },
  },
];

/** The route a path names, with its parameters; empty segments (`//`, a trailing `/`) are ignored. */
export function matchRoute(path: string): { route: Route; params: Record<string, string> } | null {
  const parts = path.split('/').filter(Boolean);
  for (const route of ROUTES) {
    const pattern = route.path.split('/').filter(Boolean);
    if (pattern.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const matches = pattern.every((p, i) => {
      if (p.startsWith('{')) {
        params[p.slice(1, -1)] = parts[i];
        return true;
      }
      return p === parts[i];
    });
    if (matches) return { route, params };
  }
  return null;
}
