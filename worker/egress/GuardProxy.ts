/**
 * The guard proxy: ffmpeg reaches every http(s) URL of a stream — playlist, segments, keys and
 * redirects alike — through this local proxy (ffmpeg's -http_proxy), which resolves each host
 * and refuses private, loopback (outside local mode) and metadata addresses at connect time.
 * A playlist therefore cannot lead ffmpeg to an internal host, and DNS rebinding after the API's
 * check does not help either. (Local files are refused by ffmpeg's protocol whitelist.)
 *
 * Each stream gets its own listening port (a route), so the proxy also bounds what one stream
 * may ask of its origin: a request budget (token bucket; over it: 429), and master playlists
 * that lead back to themselves (directly or through another master) are refused (508) — FFmpeg
 * would otherwise re-fetch such a playlist thousands of times a second.
 *
 * A route also serves its stream's own documents at DOCUMENTS_BASE (a `.invalid` host, RFC 6761:
 * it names nothing on any network): the HLS playlists a DASH ladder is decoded through.
 *
 * https: ffmpeg never speaks TLS itself (its HLS reader verifies no segment certificate). It
 * reads https URLs mapped to plain http (plainUrl.ts); the proxy makes the TLS connection with
 * Node's client, verifying the certificate unless the stream opted out, and maps every https URL
 * in the playlists, MPDs and redirects it passes on. CONNECT tunnels are refused.
 */
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type Socket } from 'node:net';
import { rootCertificates } from 'node:tls';
import type { SecurityConfig } from '../../shared/config.js';
import type { Logger } from '../../shared/logger.js';
import { vetHost } from '../../shared/urlPolicy.js';
import { isMpd, isPlaylist, MAX_DOCUMENT_BYTES, masterVariants } from './documents.js';
import { originalUrl, plainDocument, plainUrl, tlsHost } from './plainUrl.js';
import { DEFAULT_BUDGET, type RequestBudget, TokenBucket } from './TokenBucket.js';

export type { RequestBudget } from './TokenBucket.js';

/** Where a route serves its stream's own documents (see serve()). */
export const DOCUMENTS_BASE = 'http://documents.streamqc.invalid/';

/** TS segments up to this size are handed to the watcher whole (transport checks). */
const MAX_WATCHED_BODY_BYTES = 32 << 20;
/**
 * Of an ISO BMFF (fMP4) download only the start is kept: a media segment's emsg boxes and moof
 * (where it starts: tfdt) come before the media; an initialization section is small.
 */
const FMP4_HEAD_BYTES = 64 << 10;
/** Box types an fMP4 media segment or initialization section starts with (ISO/IEC 14496-12, DASH). */
const FMP4_FIRST_BOXES = new Set(['styp', 'emsg', 'sidx', 'prft', 'moof', 'ftyp', 'moov']);

/** How much of a watched body is kept: a TS segment whole, the head of an fMP4 one, else none. */
function keptBytes(first: Buffer): number {
  if (first[0] === 0x47) return MAX_WATCHED_BODY_BYTES;
  return first.length >= 8 && FMP4_FIRST_BOXES.has(first.toString('latin1', 4, 8)) ? FMP4_HEAD_BYTES : 0;
}

interface Route {
  server: Server;
  url: string;
  budget: TokenBucket;
  /** Master playlists this stream has fetched. */
  masters: Set<string>;
  /** The last thing the proxy refused for this stream, for the unit's health. */
  problem?: string;
  /** Why the origin could not be reached the last time it was not (cleared by its next answer). */
  unreachable?: string;
  warnedAt: number;
  /** Told of every download the proxy passed on, http and https (the delivery monitor). */
  watcher?: (exchange: Exchange) => void;
  /** The stream's own documents, by path under DOCUMENTS_BASE. */
  documents?: (path: string) => string | null;
  /** Certificates of https origins are verified (a stream may opt out). */
  verifyTls: boolean;
}

/** How a route reaches https origins. */
export interface RouteOptions {
  /** Verify certificates (default true). */
  verifyTls?: boolean;
}

/** A TLS failure that is about the certificate (not the network). */
function isCertificateError(e: Error & { code?: string }): boolean {
  return /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME|UNABLE_TO_GET_ISSUER/.test(e.code ?? '');
}

/** One download the proxy passed on: how it ended and how long it took. */
export interface Exchange {
  url: string;
  status: number;
  ms: number;
  /** Why the body did not arrive whole, if it did not. */
  error?: string;
  /**
   * The body, when it is an MPEG transport stream (first byte 0x47) of at most 32 MiB; of an fMP4
   * media segment or initialization section, its first 64 KiB (its `emsg` boxes and `moof`; the
   * tracks' timescales).
   */
  body?: Buffer;
  /**
   * Still downloading (`ms` so far): told once a second while a body is in flight, so a download
   * that never ends (an endless chunked body) is judged while it runs, not never.
   */
  inProgress?: boolean;
}

/** Of a body the client is slow to read, how much the proxy holds before the origin must wait. */
const MAX_UNREAD_BYTES = 32 << 20;

/** How often a download in flight is reported to the watcher. */
const IN_PROGRESS_REPORT_MS = 1000;

export class GuardProxy {
  private readonly routes = new Map<string, Route>();
  /** Requests refused by the address policy, for metrics and tests. */
  refused = 0;
  /** Requests refused for being over a stream's budget. */
  throttled = 0;

  /** Certificate authorities for https origins: the system's, plus any the config adds. */
  private readonly ca: string[] | undefined;

  constructor(
    private readonly security: SecurityConfig,
    private readonly logger: Logger,
    private readonly budget: RequestBudget = DEFAULT_BUDGET,
  ) {
    this.ca = security.tlsCa?.length ? [...rootCertificates, ...security.tlsCa] : undefined;
  }

  /** One shared route (tests, and callers without a stream). */
  start(): Promise<string> {
    return this.open('shared');
  }

  /** The proxy URL for one stream (a port of its own), opened on first use. */
  async open(key: string, options: RouteOptions = {}): Promise<string> {
    const existing = this.routes.get(key);
    if (existing) return existing.url;
    const route: Route = {
      verifyTls: options.verifyTls !== false,
      server: createServer(),
      url: '',
      budget: new TokenBucket(this.budget),
      masters: new Set(),
      warnedAt: 0,
    };
    route.server.on('request', (req, res) => void this.forward(route, key, req, res));
    route.server.on('connect', (req: IncomingMessage, client: Socket) =>
      this.refuseTunnel(route, req, client),
    );
    await new Promise<void>((resolve) => route.server.listen(0, '127.0.0.1', () => resolve()));
    route.url = `http://127.0.0.1:${(route.server.address() as { port: number }).port}`;
    this.routes.set(key, route);
    return route.url;
  }

  /** Tells `watcher` of every download made through a stream's route (http and https). */
  watch(key: string, watcher: ((exchange: Exchange) => void) | undefined): void {
    const route = this.routes.get(key);
    if (route) route.watcher = watcher;
  }

  /** Serves a stream's own documents (DOCUMENTS_BASE + path) to its ffmpeg; null: 404. */
  serve(key: string, documents: ((path: string) => string | null) | undefined): void {
    const route = this.routes.get(key);
    if (route) route.documents = documents;
  }

  /**
   * Why the stream's origin could not be reached, while it cannot (a connection refused, reset or
   * timed out): what FFmpeg only sees as the proxy's 502.
   */
  unreachable(key: string): string | undefined {
    return this.routes.get(key)?.unreachable;
  }

  /** What the proxy last refused for a stream (shown as the unit's error), if anything. */
  problem(key: string): string | undefined {
    return this.routes.get(key)?.problem;
  }

  async close(key: string): Promise<void> {
    const route = this.routes.get(key);
    if (!route) return;
    this.routes.delete(key);
    route.server.closeAllConnections();
    await new Promise<void>((resolve) => route.server.close(() => resolve()));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.routes.keys()].map((key) => this.close(key)));
  }

  /** Takes one request from the stream's budget; false (and a warning a minute at most) when spent. */
  private spend(route: Route, key: string): boolean {
    if (route.budget.take()) return true;
    this.throttled++;
    route.problem = `over the request budget of ${this.budget.perSecond}/s to its origin`;
    const now = Date.now();
    if (now - route.warnedAt > 60_000) {
      route.warnedAt = now;
      this.logger.warn(
        { streamId: key.split('#')[0], budget: this.budget },
        'stream over its request budget; throttled',
      );
    }
    return false;
  }

  private async forward(route: Route, key: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    let target: URL;
    try {
      target = new URL(req.url ?? '');
      if (target.protocol !== 'http:') throw new Error('only absolute http:// URLs are proxied');
    } catch (e) {
      res.writeHead(400).end((e as Error).message);
      return;
    }
    if (target.origin === new URL(DOCUMENTS_BASE).origin) {
      const body = route.documents?.(target.pathname.slice(1)) ?? null;
      if (body === null) res.writeHead(404).end('no such document');
      else res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' }).end(plainDocument(body));
      return;
    }
    // An https origin, mapped to plain http for ffmpeg (plainUrl.ts).
    const secureHost = tlsHost(target.hostname);
    const host = secureHost ?? target.hostname;
    const secure = secureHost !== null;
    const port = Number(target.port || (secure ? 443 : 80));
    const realUrl = originalUrl(target.href);
    if (!this.spend(route, key)) {
      res.writeHead(429, { 'retry-after': '1' }).end("over this stream's request budget");
      return;
    }
    let address: string;
    try {
      address = await vetHost(host, this.security);
    } catch (e) {
      this.refused++;
      route.problem = (e as Error).message;
      this.logger.warn({ url: realUrl, err: (e as Error).message }, 'guard proxy refused a request');
      res.writeHead(403).end('forbidden by streamqc source policy');
      return;
    }
    const started = Date.now();
    // The client went away first (see below): what the upstream connection does after is not news.
    let abandoned = false;
    const report = (status: number, error?: string, body?: Buffer, inProgress?: boolean) =>
      route.watcher?.({
        url: realUrl,
        status,
        ms: Date.now() - started,
        ...(error ? { error } : {}),
        ...(body ? { body } : {}),
        ...(inProgress ? { inProgress } : {}),
      });
    const defaultPort = secure ? 443 : 80;
    const hostHeader = `${isIP(host) === 6 ? `[${host}]` : host}${port === defaultPort ? '' : `:${port}`}`;
    const headers: Record<string, string | string[] | undefined> = { ...req.headers, host: hostHeader };
    delete headers['proxy-connection'];
    const upstream = (secure ? httpsRequest : httpRequest)(
      {
        host: address,
        port,
        method: req.method,
        path: `${target.pathname}${target.search}`,
        headers,
        timeout: 15_000,
        ...(secure
          ? {
              servername: isIP(host) ? undefined : host,
              rejectUnauthorized: route.verifyTls,
              ...(this.ca ? { ca: this.ca } : {}),
            }
          : {}),
      },
      (up) => {
        route.unreachable = undefined;
        const responseHeaders = { ...up.headers };
        // A redirect to an https URL is followed through the proxy too.
        if (typeof responseHeaders.location === 'string')
          responseHeaders.location = plainUrl(responseHeaders.location);
        const type = up.headers['content-type'];
        if (!isPlaylist(target, type) && !isMpd(target, type)) {
          res.writeHead(up.statusCode ?? 502, responseHeaders);
          const expected = Number(up.headers['content-length'] ?? Number.NaN);
          let size = 0;
          // A watched TS segment is kept for the transport checks (the decoder's own download); of
          // an fMP4 segment, the head that holds its in-band events.
          let kept: Buffer[] | null = route.watcher ? [] : null;
          let keep = 0;
          // Told while the body is in flight, and not a moment after.
          let inFlight = true;
          const progress = route.watcher
            ? setInterval(() => report(up.statusCode ?? 0, undefined, undefined, true), IN_PROGRESS_REPORT_MS)
            : null;
          const settled = () => {
            inFlight = false;
            if (progress) clearInterval(progress);
          };
          up.on('close', settled);
          // The client gone before the body came: abandoned, which is not the origin's fault.
          res.on('close', () => {
            if (up.complete) return;
            settled();
            abandoned = true;
            up.destroy();
          });
          up.on('data', (c: Buffer) => {
            size += c.length;
            if (!kept) return;
            if (kept.length === 0) keep = keptBytes(c);
            const before = size - c.length;
            // Not media, or a TS segment too large to keep whole: nothing. Else up to `keep` bytes.
            if (keep === 0 || (keep === MAX_WATCHED_BODY_BYTES && size > keep)) kept = null;
            else if (before < keep) kept.push(c.subarray(0, keep - before));
          });
          up.on('end', () => {
            settled();
            const truncated = Number.isFinite(expected) && size < expected;
            report(
              up.statusCode ?? 0,
              truncated ? `truncated body: ${size} of ${expected} bytes` : undefined,
              kept?.length ? Buffer.concat(kept) : undefined,
            );
          });
          up.on('aborted', () => {
            if (!inFlight) return;
            settled();
            report(up.statusCode ?? 0, `connection closed after ${size} bytes`);
          });
          // The body is read at the origin's pace, not the client's: ffmpeg opens the next segment
          // before it reads it (http_multiple) and reads at its decoding pace, and a download
          // measured through its back-pressure would blame the origin for a busy decoder. What it
          // has not read waits here, up to MAX_UNREAD_BYTES; past that, the origin waits.
          up.on('data', (c: Buffer) => {
            if (!res.write(c) && res.writableLength > MAX_UNREAD_BYTES) {
              up.pause();
              res.once('drain', () => up.resume());
            }
          });
          up.on('end', () => res.end());
          return;
        }
        this.checkPlaylist(route, target, up, responseHeaders, res);
      },
    );
    upstream.on('timeout', () => upstream.destroy(new Error('upstream timeout')));
    upstream.on('error', (e) => {
      if (abandoned) return;
      if (isCertificateError(e)) {
        route.problem = `TLS certificate of ${host} not accepted: ${e.message}`;
        this.logger.warn({ url: realUrl, err: e.message }, 'https origin certificate not accepted');
      } else route.unreachable = `${realUrl}: ${e.message}`;
      report(0, e.message);
      if (!res.headersSent) res.writeHead(502).end(e.message);
      else res.destroy();
    });
    req.pipe(upstream);
  }

  /**
   * Reads a playlist or MPD before passing it on, with its https URLs mapped for ffmpeg; a master
   * that leads back to a master seen is refused.
   */
  private checkPlaylist(
    route: Route,
    target: URL,
    up: IncomingMessage,
    upHeaders: IncomingMessage['headers'],
    res: ServerResponse,
  ): void {
    const chunks: Buffer[] = [];
    let size = 0;
    up.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_DOCUMENT_BYTES) chunks.push(c);
    });
    up.on('error', () => res.destroy());
    up.on('end', () => {
      if (size > MAX_DOCUMENT_BYTES) {
        res.writeHead(502).end(`playlist over ${MAX_DOCUMENT_BYTES} bytes`);
        return;
      }
      const text = Buffer.concat(chunks).toString('utf8');
      const variants = masterVariants(text, originalUrl(target.href));
      if (variants) {
        const href = originalUrl(target.href);
        route.masters.add(href);
        const loop = variants.find((v) => route.masters.has(v));
        if (loop) {
          route.problem = `master playlist ${href} leads back to ${loop === href ? 'itself' : loop}`;
          this.logger.warn({ url: href, loop }, 'refused a master playlist that references itself');
          res.writeHead(508).end(route.problem);
          return;
        }
      }
      const body = Buffer.from(plainDocument(text), 'utf8');
      const headers = { ...upHeaders };
      delete headers['transfer-encoding'];
      headers['content-length'] = String(body.length);
      res.writeHead(up.statusCode ?? 502, headers);
      res.end(body);
    });
  }

  /**
   * ffmpeg is never given an https URL to tunnel (its protocol whitelist has no TLS when it reads
   * through the proxy), so a CONNECT is something else trying to bypass certificate checks.
   */
  private refuseTunnel(route: Route, req: IncomingMessage, client: Socket): void {
    this.refused++;
    route.problem = `refused a CONNECT tunnel to ${req.url}: https is read through the proxy`;
    client.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
  }
}
