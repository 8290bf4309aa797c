/**
 * A live ABR ladder for tests: one ffmpeg encodes a moving test picture with tone into three
 * renditions (640×360, 480×270, 320×180; 2 s segments, sliding window of 6) at real time and
 * writes a multivariant HLS playlist (TS segments; `hls-audio`: sound in an audio rendition group
 * of its own, `v3.m3u8`) or a DASH MPD (SegmentTimeline, fMP4 segments, sound in an AdaptationSet
 * of its own), served on 127.0.0.1 by an origin that can be
 * told to fail requests. Freezes are scheduled in source seconds, on the source (every
 * rendition) or on one rendition only (its encoder output).
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serveHlsFolder } from '../../local/hlsFileServer.js';
import { spawnTied } from '../../local/tiedChild.js';

const FPS = 25;
export const LADDER = [
  { width: 640, height: 360, bitrate: '900k' },
  { width: 480, height: 270, bitrate: '500k' },
  { width: 320, height: 180, bitrate: '250k' },
] as const;

export interface LadderFreeze {
  /** `source`: before the encoder (all renditions); a number: that rendition's output only. */
  on: 'source' | number;
  from: number;
  to: number;
}

export interface HlsLadder {
  /** The multivariant playlist, or the MPD. */
  url: string;
  /** Media playlist URL of rendition i (DASH: the MPD's with `#representation=i`). */
  rendition(i: number): string;
  /** Newest media sequence number (DASH: `$Number$`) written for rendition i (-1 before any). */
  lastSequence(i: number): number;
  /** File name of rendition i's segment number `n`. */
  segmentName(i: number, n: number): string;
  /** Answer requests whose file name passes `match` with `status` from now on (undefined: stop). */
  fail(match: ((name: string) => boolean) | undefined, status?: number): void;
  /** Stops the encoder/packager; the origin goes on serving the last playlists. */
  stopPackager(): void;
  stop(): Promise<void>;
}

function freezeChain(input: string, output: string, freezes: LadderFreeze[], tag: string): string {
  if (freezes.length === 0) return `[${input}]null[${output}]`;
  const parts: string[] = [];
  let current = input;
  freezes.forEach((f, i) => {
    const first = Math.round(f.from * FPS);
    const last = Math.round(f.to * FPS);
    const next = i === freezes.length - 1 ? output : `${tag}f${i}`;
    parts.push(
      `[${current}]split[${tag}a${i}][${tag}b${i}]`,
      `[${tag}a${i}][${tag}b${i}]freezeframes=first=${first}:last=${last}:replace=${first - 1}[${next}]`,
    );
    current = next;
  });
  return parts.join(';');
}

/**
 * Renders the pictures of each rendition first (offline, with their freezes: freezeframes holds
 * frames back, which a real-time packager cannot afford), then packages them live.
 */
export async function startHlsLadder(
  dir: string,
  freezes: LadderFreeze[] = [],
  seconds = 120,
  format: 'hls' | 'hls-audio' | 'dash' = 'hls',
): Promise<HlsLadder> {
  const hls = format !== 'dash';
  mkdirSync(dir, { recursive: true });
  const graph = [
    freezeChain(
      '0:v',
      'src',
      freezes.filter((f) => f.on === 'source'),
      's',
    ),
    `[src]split=${LADDER.length}${LADDER.map((_, i) => `[r${i}]`).join('')}`,
    ...LADDER.map((_, i) =>
      freezeChain(
        `r${i}`,
        `v${i}`,
        freezes.filter((f) => f.on === i),
        `r${i}x`,
      ),
    ),
  ].join(';');
  const pictures = LADDER.map((_, i) => join(dir, `pictures${i}.mkv`));
  execFileSync('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=640x360:rate=${FPS}:duration=${seconds}`,
    '-filter_complex',
    graph,
    ...LADDER.flatMap((_, i) => [
      '-map',
      `[v${i}]`,
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-qp',
      '10',
      '-g',
      String(FPS),
      pictures[i],
    ]),
  ]);
  const scales = LADDER.map((r, i) => `[${i}:v]scale=${r.width}:${r.height}[v${i}]`).join(';');
  const args = [
    '-v',
    'error',
    ...pictures.flatMap((p) => ['-re', '-i', p]),
    '-re',
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
    '-filter_complex',
    scales,
    ...LADDER.flatMap((_, i) => ['-map', `[v${i}]`]),
    // HLS: sound muxed into each rendition; otherwise one audio rendition of its own.
    ...(format === 'hls'
      ? LADDER.flatMap(() => ['-map', `${LADDER.length}:a`])
      : ['-map', `${LADDER.length}:a`]),
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-threads',
    '1',
    '-g',
    String(2 * FPS),
    '-keyint_min',
    String(2 * FPS),
    '-sc_threshold',
    '0',
    ...LADDER.flatMap((r, i) => [`-b:v:${i}`, r.bitrate]),
    '-c:a',
    'aac',
    '-b:a',
    '64k',
    ...(hls
      ? [
          '-f',
          'hls',
          '-hls_time',
          '2',
          '-hls_list_size',
          '6',
          '-hls_flags',
          'delete_segments+omit_endlist+independent_segments',
          '-master_pl_name',
          'master.m3u8',
          '-var_stream_map',
          format === 'hls'
            ? LADDER.map((_, i) => `v:${i},a:${i}`).join(' ')
            : [...LADDER.map((_, i) => `v:${i},agroup:aac`), 'a:0,agroup:aac,language:en,default:yes'].join(
                ' ',
              ),
          '-hls_segment_filename',
          join(dir, 'v%v_%05d.ts'),
          join(dir, 'v%v.m3u8'),
        ]
      : [
          '-f',
          'dash',
          '-seg_duration',
          '2',
          '-window_size',
          '6',
          '-extra_window_size',
          '3',
          '-use_timeline',
          '1',
          '-use_template',
          '1',
          '-adaptation_sets',
          'id=0,streams=v id=1,streams=a',
          '-init_seg_name',
          'init-$RepresentationID$.m4s',
          '-media_seg_name',
          'chunk-$RepresentationID$-$Number%05d$.m4s',
          join(dir, 'live.mpd'),
        ]),
  ];
  let packager: ChildProcess | null = spawnTied('ffmpeg', args, { stdio: ['ignore', 'ignore', 'inherit'] });
  let failing: { match: (name: string) => boolean; status: number } | undefined;
  const server = await serveHlsFolder(dir, (name) => (failing?.match(name) ? failing.status : undefined));
  const ready = () =>
    hls
      ? LADDER.every((_, i) => existsSync(join(dir, `v${i}.m3u8`))) && existsSync(join(dir, 'master.m3u8'))
      : existsSync(join(dir, 'live.mpd'));
  for (let i = 0; i < 150 && !ready(); i++) await new Promise((r) => setTimeout(r, 100));
  const segmentName = (i: number, n: number) =>
    hls ? `v${i}_${String(n).padStart(5, '0')}.ts` : `chunk-${i}-${String(n).padStart(5, '0')}.m4s`;
  return {
    url: `${server.baseUrl}${hls ? 'master.m3u8' : 'live.mpd'}`,
    rendition: (i) => (hls ? `${server.baseUrl}v${i}.m3u8` : `${server.baseUrl}live.mpd#representation=${i}`),
    lastSequence(i) {
      if (format === 'dash') {
        const numbers = readdirSync(dir)
          .map((name) => new RegExp(`^chunk-${i}-(\\d+)\\.m4s$`).exec(name)?.[1])
          .filter((n) => n !== undefined)
          .map(Number);
        return numbers.length ? Math.max(...numbers) : -1;
      }
      const text = readFileSync(join(dir, `v${i}.m3u8`), 'utf8');
      const base = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1] ?? 0);
      return base + (text.match(/#EXTINF/g)?.length ?? 0) - 1;
    },
    segmentName,
    fail(match, status = 404) {
      failing = match ? { match, status } : undefined;
    },
    stopPackager() {
      packager?.kill('SIGKILL');
      packager = null;
    },
    async stop() {
      packager?.kill('SIGKILL');
      await server.close();
    },
  };
}
