/**
 * The local adapter: a node:http server on 127.0.0.1 in front of the request handler, with API keys.
 * Everything a client sends is parsed inside the error boundary: no request can take it down.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
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

/** Seconds a client has to send its headers, and its whole request. */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads the body up to `limit` bytes (declared or chunked); past it the rest is drained unread, so
 * the client still gets its 413. Invalid UTF-8 is refused rather than stored as U+FFFD.
 */
function readBody(req: IncomingMessage, limit: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const tooLarge = () => new ApiError(413, 'payload_too_large', `body over ${limit} bytes`);
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      req.resume();
      reject(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (over) return;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (over) return reject(tooLarge());
      if (!size) return resolve(null);
      try {
        resolve(utf8.decode(Buffer.concat(chunks)));
      } catch {
        reject(new ApiError(400, 'invalid_encoding', 'the body is not valid UTF-8'));
      }
    });
    req.on('error', reject);
  });
}

/** Parses the request target; a target that is no path (`//x`, `//:99999`, `*`) is a 400. */
function parseTarget(target: string | undefined): URL {
  const raw = target ?? '/';
  if (!raw.startsWith('/') || raw.startsWith('//')) {
    throw new ApiError(400, 'bad_path', 'the request path must start with a single "/"');
  }
  try {
    return new URL(raw, 'http://localhost');
  } catch {
    throw new ApiError(400, 'bad_path', 'the request path cannot be parsed');
  }
}

/** Creates (does not start) the local API server. */
export function createHttpServer(options: HttpServerOptions): Server {
  const keys = [...options.apiKeys].map(([key, owner]) => ({ hash: digest(key), owner }));
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = Date.now();
    let path = '';
    let response: ApiResponse;
    try {
      const url = parseTarget(req.url);
      path = url.pathname;
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
      if (!(e instanceof ApiError)) options.logger.warn({ err: e }, 'request failed');
      response =
        e instanceof ApiError
          ? e.toResponse()
          : new ApiError(400, 'bad_request', 'the request could not be processed').toResponse();
    }
    const bytes =
      response.raw?.bytes ??
      Buffer.from(response.body === null && response.status === 302 ? '' : JSON.stringify(response.body));
    if (!res.headersSent && !res.destroyed) {
      res.writeHead(response.status, {
        'content-type': response.raw?.contentType ?? 'application/json',
        'content-length': bytes.length,
        ...(response.status === 413 ? { connection: 'close' } : {}),
        ...response.headers,
      });
      res.end(bytes);
    }
    options.logger.debug(
      { method: req.method, path, status: response.status, ms: Date.now() - started },
      'request',
    );
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      options.logger.error({ err }, 'request handling failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify({ error: { code: 'internal', message: 'internal error' } }));
    });
  });
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  // A request line node:http cannot parse at all gets a plain 400, never an exception.
  server.on('clientError', (_err, socket) => {
    if (socket.writable)
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  return server;
}
