/**
 * The delivery monitor's own HTTP client: every request (and every redirect) is checked against
 * the source policy at connect time, like the guard proxy does for ffmpeg, and connects to the
 * vetted address (no second DNS answer). Bodies are bounded; a body shorter than its
 * Content-Length is an error, not a short segment.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import type { SecurityConfig } from '../../shared/config.js';
import { vetHost } from '../../shared/urlPolicy.js';

export interface Fetched {
  /** The URL finally answered (after redirects). */
  url: string;
  status: number;
  contentType: string | undefined;
  body: Buffer;
  /** Milliseconds from the request to the end of the body. */
  ms: number;
  /** The body was abandoned after its first bytes (`sniff` said no): `body` holds those. */
  abandoned?: boolean;
}

/** A request that failed: refused, unreachable, timed out, an HTTP error or a truncated body. */
export class FetchError extends Error {
  constructor(
    message: string,
    readonly url: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/**
 * A document that loaded but is refused: it implies more work than a monitor needs (segments,
 * Periods, Representations) or its parsing ran past the sandbox's time or memory.
 */
export class ManifestRefused extends FetchError {
  constructor(
    message: string,
    url: string,
    /** The limit that was hit, as a user reads it (e.g. "10000 segments"). */
    readonly limit: string,
  ) {
    super(message, url);
  }
}

export interface GetOptions {
  security: SecurityConfig;
  timeoutMs: number;
  maxBytes: number;
  signal?: AbortSignal;
  /**
   * Looks at the first bytes of a 2xx body: false abandons the download there (e.g. a source that
   * is not a playlist: an endless stream or a large file must not be read to its end).
   */
  sniff?: (first: Buffer) => boolean;
}

const MAX_REDIRECTS = 3;

/** GETs a URL under the source policy; rejects with FetchError for anything but a whole 2xx body. */
export async function guardedGet(url: string, options: GetOptions): Promise<Fetched> {
  const started = Date.now();
  let target = new URL(url);
  for (let hop = 0; ; hop++) {
    if (target.protocol !== 'http:' && target.protocol !== 'https:')
      throw new FetchError(`refused ${target.protocol} URL`, target.href);
    let address: string;
    try {
      address = await vetHost(target.hostname, options.security);
    } catch (e) {
      throw new FetchError((e as Error).message, target.href);
    }
    const response = await once(target, address, options, started);
    const location = response.headers.location;
    if (response.statusCode && response.statusCode >= 300 && response.statusCode < 400 && location) {
      response.resume();
      if (hop >= MAX_REDIRECTS) throw new FetchError('too many redirects', target.href, response.statusCode);
      target = new URL(location, target);
      continue;
    }
    return read(target, response, options, started);
  }
}

function once(target: URL, address: string, options: GetOptions, started: number): Promise<IncomingMessage> {
  const secure = target.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const req = (secure ? httpsRequest : httpRequest)(
      {
        host: address,
        port: target.port || (secure ? 443 : 80),
        path: `${target.pathname}${target.search}`,
        method: 'GET',
        headers: { host: target.host, 'user-agent': 'streamqc-delivery' },
        ...(secure
          ? {
              servername: isIP(target.hostname) ? undefined : target.hostname,
              // Certificates are verified unless the stream opted out (`verifyTls: false`).
              rejectUnauthorized: options.security.verifyTls !== false,
              ...(options.security.tlsCa?.length
                ? { ca: [...rootCertificates, ...options.security.tlsCa] }
                : {}),
            }
          : {}),
        signal: options.signal,
        timeout: Math.max(1, options.timeoutMs - (Date.now() - started)),
      },
      resolve,
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${options.timeoutMs / 1000} s`)));
    // The socket timeout above is an idle timeout: a server that sends its headers a byte at a
    // time never trips it. The whole request, headers included, has the one deadline.
    const deadline = setTimeout(
      () => req.destroy(new Error(`response headers not complete within ${options.timeoutMs / 1000} s`)),
      Math.max(1, options.timeoutMs - (Date.now() - started)),
    );
    req.on('response', () => clearTimeout(deadline));
    req.on('close', () => clearTimeout(deadline));
    req.on('error', (e) => reject(new FetchError(e.message, target.href)));
    req.end();
  });
}

function read(
  target: URL,
  response: IncomingMessage,
  options: GetOptions,
  started: number,
): Promise<Fetched> {
  const status = response.statusCode ?? 0;
  return new Promise((resolve, reject) => {
    if (status < 200 || status >= 300) {
      response.resume();
      reject(new FetchError(`HTTP ${status}`, target.href, status));
      return;
    }
    const expected = Number(response.headers['content-length'] ?? Number.NaN);
    const chunks: Buffer[] = [];
    let size = 0;
    const deadline = setTimeout(
      () => response.destroy(new Error(`body not complete within ${options.timeoutMs / 1000} s`)),
      Math.max(1, options.timeoutMs - (Date.now() - started)),
    );
    let sniffed = !options.sniff;
    response.on('data', (chunk: Buffer) => {
      if (!sniffed) {
        sniffed = true;
        if (!options.sniff?.(chunk)) {
          clearTimeout(deadline);
          resolve({
            url: target.href,
            status,
            contentType: response.headers['content-type'],
            body: chunk,
            ms: Date.now() - started,
            abandoned: true,
          });
          response.destroy();
          return;
        }
      }
      size += chunk.length;
      if (size > options.maxBytes) response.destroy(new Error(`body over ${options.maxBytes} bytes`));
      else chunks.push(chunk);
    });
    response.on('error', (e) => {
      clearTimeout(deadline);
      reject(new FetchError(e.message, target.href, status));
    });
    response.on('end', () => {
      clearTimeout(deadline);
      if (Number.isFinite(expected) && size < expected) {
        reject(new FetchError(`truncated body: ${size} of ${expected} bytes`, target.href, status));
        return;
      }
      resolve({
        url: target.href,
        status,
        contentType: response.headers['content-type'],
        body: Buffer.concat(chunks),
        ms: Date.now() - started,
      });
    });
    response.on('close', () => {
      clearTimeout(deadline);
      if (!response.complete)
        reject(new FetchError(`connection closed after ${size} bytes`, target.href, status));
    });
  });
}
