/**
 * Serves a folder that FFmpeg's HLS or DASH muxer writes (playlists, MPDs, TS and fMP4 segments,
 * nothing else) over HTTP on 127.0.0.1: the origin of the demo's live HLS stream and of the
 * tests' live sources.
 */
import { createReadStream, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, extname, join } from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.ts': 'video/mp2t',
  '.mpd': 'application/dash+xml',
  '.m4s': 'video/iso.segment',
};

export interface HlsFileServer {
  /** http://127.0.0.1:PORT/ — append a playlist name. */
  baseUrl: string;
  /** Stops listening (connections refused) until resume(): the tests' origin outage. */
  pause(): Promise<void>;
  /** Listens again on the same port. */
  resume(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts serving `dir` on a free port of 127.0.0.1. `fault`, when given, may answer a request
 * with an HTTP error status instead (the tests' misbehaving origin).
 */
export async function serveHlsFolder(
  dir: string,
  fault?: (name: string) => number | undefined,
): Promise<HlsFileServer> {
  const server: Server = createServer((req, res) => {
    const name = basename(new URL(req.url ?? '/', 'http://x').pathname);
    const path = join(dir, name);
    const status = fault?.(name);
    if (status) {
      res.writeHead(status).end();
      return;
    }
    const type = CONTENT_TYPES[extname(name)];
    if (!/^[\w.-]+$/.test(name) || !type || !existsSync(path)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': type });
    createReadStream(path)
      .on('error', () => res.destroy())
      .pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/`,
    async pause() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
    async resume() {
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
