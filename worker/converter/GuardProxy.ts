/**
 * The guard proxy: ffmpeg reaches every http(s) URL of a stream — playlist, segments, keys and
 * redirects alike — through this local proxy (ffmpeg's -http_proxy), which resolves each host
 * and refuses private, loopback (outside local mode) and metadata addresses at connect time.
 * A playlist therefore cannot lead ffmpeg to an internal host, and DNS rebinding after the API's
 * check does not help either. (Local files are refused by ffmpeg's protocol whitelist.)
 */
import { lookup } from 'node:dns/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { connect, isIP, type Socket } from 'node:net';
import type { SecurityConfig } from '../../shared/config.js';
import type { Logger } from '../../shared/logger.js';
import { isForbiddenAddress, normaliseHost } from '../../shared/urlPolicy.js';

/** Resolves a host to one address that the policy allows, or throws with the reason. */
async function vet(host: string, security: SecurityConfig): Promise<string> {
  const name = normaliseHost(host);
  const addresses = isIP(name)
    ? [name]
    : (await lookup(name, { all: true, verbatim: true })).map((a) => a.address);
  const bad = addresses.find((a) => isForbiddenAddress(a, security));
  if (bad || addresses.length === 0) throw new Error(`refused ${host}: resolves to ${bad ?? 'nothing'}`);
  return addresses[0];
}

export class GuardProxy {
  private server: Server | null = null;
  /** Requests refused, for metrics and tests. */
  refused = 0;

  constructor(
    private readonly security: SecurityConfig,
    private readonly logger: Logger,
  ) {}

  /** Starts listening on 127.0.0.1 and returns the proxy URL to hand to ffmpeg. */
  async start(): Promise<string> {
    const server = createServer(async (req, res) => {
      let target: URL;
      try {
        target = new URL(req.url ?? '');
        if (target.protocol !== 'http:') throw new Error('only absolute http:// URLs are proxied');
      } catch (e) {
        res.writeHead(400).end((e as Error).message);
        return;
      }
      let address: string;
      try {
        address = await vet(target.hostname, this.security);
      } catch (e) {
        this.refused++;
        this.logger.warn({ url: target.href, err: (e as Error).message }, 'guard proxy refused a request');
        res.writeHead(403).end('forbidden by streamqc source policy');
        return;
      }
      const headers: Record<string, string | string[] | undefined> = { ...req.headers, host: target.host };
      delete headers['proxy-connection'];
      const upstream = httpRequest(
        {
          host: address,
          port: target.port || 80,
          method: req.method,
          path: `${target.pathname}${target.search}`,
          headers,
          timeout: 15_000,
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('timeout', () => upstream.destroy(new Error('upstream timeout')));
      upstream.on('error', (e) => {
        if (!res.headersSent) res.writeHead(502).end(e.message);
        else res.destroy();
      });
      req.pipe(upstream);
    });
    server.on('connect', async (req, client: Socket, head: Buffer) => {
      const [host, portText] = (req.url ?? '').split(/:(?=\d+$)/);
      const port = Number(portText);
      let address: string;
      try {
        if (!host || !Number.isInteger(port) || port < 1 || port > 65535)
          throw new Error('bad CONNECT target');
        address = await vet(host, this.security);
      } catch (e) {
        this.refused++;
        this.logger.warn({ target: req.url, err: (e as Error).message }, 'guard proxy refused a tunnel');
        client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
        return;
      }
      const upstream = connect(port, address, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (head.length) upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.setTimeout(30_000, () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.server = server;
    const { port } = server.address() as { port: number };
    return `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
