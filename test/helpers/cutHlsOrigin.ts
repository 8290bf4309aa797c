/**
 * A live HLS origin over segments cut beforehand: segment n is listed once it has been "recorded"
 * (n segment durations after the playlist was first asked for: a monitor slow to start on a busy
 * machine still joins at the programme's start), five at a time in a sliding window, as a
 * packager publishes them — with whatever tags a test puts before a segment (ad-break cues).
 */

import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/** H.264 with a key frame every 2 s at 25 fps (so 2 s segments cut there) and AAC sound. */
export function segmentableH264Aac(preset: string): string[] {
  return [
    '-c:v',
    'libx264',
    '-preset',
    preset,
    '-g',
    '50',
    '-keyint_min',
    '50',
    '-sc_threshold',
    '0',
    '-c:a',
    'aac',
  ];
}

export interface CutSegments {
  dir: string;
  /** Media segment file names, in order. */
  names: string[];
  segmentSeconds: number;
  /** fMP4: the initialization section's file name in `dir` (listed with EXT-X-MAP). */
  init?: string;
}

export interface CutHlsOrigin {
  url: string;
  close(): Promise<void>;
}

/** Serves `segments` live on 127.0.0.1; `tagsBefore(n)`: lines to list before segment n. */
export async function cutHlsOrigin(
  segments: CutSegments,
  tagsBefore: (n: number) => string[] = () => [],
): Promise<CutHlsOrigin> {
  const { dir, names, segmentSeconds, init } = segments;
  let started: number | null = null;
  const server: Server = createServer((req, res) => {
    const name = (req.url ?? '').slice(1);
    if (name === 'live.m3u8') {
      started ??= Date.now();
      const recorded = Math.floor((Date.now() - started) / (segmentSeconds * 1000)) + 1;
      const available = Math.min(names.length, recorded);
      const first = Math.max(0, available - 5);
      const lines = [
        '#EXTM3U',
        `#EXT-X-VERSION:${init ? 7 : 3}`,
        `#EXT-X-TARGETDURATION:${segmentSeconds}`,
        `#EXT-X-MEDIA-SEQUENCE:${first}`,
        ...(init ? [`#EXT-X-MAP:URI="${init}"`] : []),
      ];
      for (let n = first; n < available; n++)
        lines.push(...tagsBefore(n), `#EXTINF:${segmentSeconds}.000,`, names[n]);
      res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' }).end(`${lines.join('\n')}\n`);
      return;
    }
    if (!names.includes(name) && name !== init) {
      res.writeHead(404).end();
      return;
    }
    const type = name.endsWith('.ts') ? 'video/mp2t' : 'video/mp4';
    res.writeHead(200, { 'content-type': type }).end(readFileSync(join(dir, name)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/live.m3u8`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
