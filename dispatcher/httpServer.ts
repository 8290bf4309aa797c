/** The local adapter: a node:http server on 127.0.0.1 in front of the request handler, with API keys. */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Logger } from '../shared/logger.js';
import { ApiError, type ApiRequest, type ApiResponse } from './types.js';

export interface HttpServerOptions {
  handler: (request: ApiRequest) => Promise<ApiResponse>;
  /** API key → owner. */
  apiKeys: Map<string, string>;
  maxBodyBytes: number;
  logger: Logger;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Finds the owner of a bearer key without a timing side channel on the key's bytes. */
function ownerOf(header: string | undefined, keys: { hash: Buffer; owner: string }[]): string | null {
  const m = /^Bearer ([\x21-\x7e]{1,256})$/.exec(header ?? '');
  if (!m) return null;
  const hash = digest(m[1]);
  let owner: string | null = null;
  for (const k of keys) if (timingSafeEqual(k.hash, hash)) owner = k.owner;
  return owner;
}

function readBody(req: IncomingMessage, limit: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      reject(new ApiError(413, 'payload_too_large', `body over ${limit} bytes`));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new ApiError(413, 'payload_too_large', `body over ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(size ? Buffer.concat(chunks).toString('utf8') : null));
    req.on('error', reject);
  });
}

/** Creates (does not start) the local API server. */
export function createHttpServer(options: HttpServerOptions): Server {
  const keys = [...options.apiKeys].map(([key, owner]) => ({ hash: digest(key), owner }));
  return createServer(async (req, res) => {
    const started = Date.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    let response: ApiResponse;
    try {
      const body = await readBody(req, options.maxBodyBytes);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers))
        if (typeof v === 'string') headers[k.toLowerCase()] = v;
      response = await options.handler({
        method: req.method ?? 'GET',
        path: url.pathname.replace(/\/+$/, '') || '/',
        query: Object.fromEntries(url.searchParams),
        headers,
        body,
        owner: ownerOf(req.headers.authorization, keys),
      });
    } catch (e) {
      response =
        e instanceof ApiError
          ? e.toResponse()
          : new ApiError(400, 'bad_request', (e as Error).message).toResponse();
    }
    const text = JSON.stringify(response.body);
    if (!res.headersSent && !res.destroyed) {
      res.writeHead(response.status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
        ...response.headers,
      });
      res.end(text);
    }
    options.logger.debug(
      { method: req.method, path: url.pathname, status: response.status, ms: Date.now() - started },
      'request',
    );
  });
}
