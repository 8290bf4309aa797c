/**
 * Live sources for tests, made on this machine: an HLS origin (ffmpeg's HLS muxer writing a live
 * playlist at real time, served over HTTP on 127.0.0.1) and an MPEG-TS-over-UDP sender, both from
 * a clip played with stream copy. Each can be stopped and started again, as a packager or a
 * contribution encoder would be.
 */
import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { serveHlsFolder } from '../../local/hlsFileServer.js';
import { spawnTied } from '../../local/tiedChild.js';

export interface HlsOrigin {
  url: string;
  /** The HTTP server stops listening (connections refused) while the packager goes on. */
  down(): Promise<void>;
  up(): Promise<void>;
  stop(): Promise<void>;
}

export interface HlsOriginOptions {
  clip: string;
  dir: string;
  segmentSeconds: number;
  /** EVENT keeps every segment listed; a sliding window keeps the last few and deletes the rest. */
  playlist: 'event' | 'sliding';
  /** Close the sliding-window playlist (ENDLIST) when the clip ends; by default it stays open. */
  closeAtEnd?: boolean;
}

/** Starts packaging the clip as live HLS and serving it; resolves once the first segment is listed. */
export async function startHlsOrigin(options: HlsOriginOptions): Promise<HlsOrigin> {
  mkdirSync(options.dir, { recursive: true });
  const playlist = join(options.dir, 'live.m3u8');
  const flags =
    options.playlist === 'event'
      ? ['-hls_playlist_type', 'event']
      : [
          '-hls_list_size',
          '5',
          '-hls_flags',
          options.closeAtEnd ? 'delete_segments' : 'delete_segments+omit_endlist',
        ];
  const packager = spawnTied(
    'ffmpeg',
    [
      '-v',
      'error',
      '-re',
      '-i',
      options.clip,
      '-c',
      'copy',
      '-f',
      'hls',
      '-hls_time',
      String(options.segmentSeconds),
      ...flags,
      playlist,
    ],
    { stdio: 'ignore' },
  );
  const server = await serveHlsFolder(options.dir);
  for (let i = 0; i < 100 && !existsSync(playlist); i++) await new Promise((r) => setTimeout(r, 100));
  return {
    url: `${server.baseUrl}live.m3u8`,
    down: () => server.pause(),
    up: () => server.resume(),
    async stop() {
      packager.kill('SIGKILL');
      await server.close();
    },
  };
}

/** A free UDP port on 127.0.0.1. */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  const { port } = socket.address();
  await new Promise<void>((r) => socket.close(() => r()));
  return port;
}

/** Plays a clip in a loop at real time as MPEG-TS over UDP; stop() and start() cut and restore it. */
export class UdpSender {
  private child: ChildProcess | null = null;
  /**
   * With `start({ progress: true })`: how far into the clip the sender had sent (seconds) at
   * which wall time (ms), twice a second, from FFmpeg's own progress report. When a moment of the
   * clip really went on the wire, whatever the sender's start-up took or however late a busy
   * machine let it run.
   */
  readonly sent: Array<{ mediaSeconds: number; wallMs: number }> = [];

  constructor(
    private readonly clip: string,
    readonly port: number,
    /** `rtp`: MPEG-TS in RTP (FFmpeg's rtp_mpegts: 7 TS packets behind a 12-byte RTP header). */
    private readonly format: 'udp' | 'rtp' = 'udp',
  ) {}

  get url(): string {
    return `${this.format}://127.0.0.1:${this.port}`;
  }

  start(options: { progress?: boolean } = {}): void {
    this.child = spawnTied(
      'ffmpeg',
      [
        '-v',
        'error',
        ...(options.progress ? ['-progress', 'pipe:1', '-stats_period', '0.5'] : []),
        '-re',
        '-stream_loop',
        '-1',
        '-i',
        this.clip,
        '-c',
        'copy',
        '-f',
        this.format === 'rtp' ? 'rtp_mpegts' : 'mpegts',
        `${this.url}?pkt_size=${this.format === 'rtp' ? 1328 : 1316}`,
      ],
      { stdio: ['ignore', options.progress ? 'pipe' : 'ignore', 'ignore'] },
    );
    let text = '';
    this.child.stdout?.on('data', (chunk: Buffer) => {
      const wallMs = Date.now();
      text += chunk.toString();
      const lines = text.split('\n');
      text = lines.pop() ?? '';
      for (const line of lines) {
        const m = /^out_time_us=(\d+)/.exec(line);
        if (m) this.sent.push({ mediaSeconds: Number(m[1]) / 1e6, wallMs });
      }
    });
  }

  /** Wall time (ms) at which clip time `t` went on the wire (needs progress; null before any report). */
  wireTime(t: number): number | null {
    const after = this.sent.find((s) => s.mediaSeconds >= t) ?? this.sent.at(-1);
    return after ? after.wallMs - (after.mediaSeconds - t) * 1000 : null;
  }

  stop(): void {
    this.child?.kill('SIGKILL');
    this.child = null;
  }
}

/**
 * A UDP relay between a sender and the monitor that damages the transport stream on the way,
 * packet by packet: `impair` sees every 188-byte packet with its PID and returns it (possibly
 * edited) or null to drop it. Datagrams stay 7 packets or fewer, as senders make them.
 */
export class ImpairingRelay {
  impair: ((packet: Buffer, pid: number) => Buffer | null) | null = null;
  private readonly socket = createSocket('udp4');

  private constructor(
    readonly inputPort: number,
    private readonly targetPort: number,
  ) {}

  static async start(targetPort: number): Promise<ImpairingRelay> {
    const relay = new ImpairingRelay(await freeUdpPort(), targetPort);
    await new Promise<void>((resolve) => relay.socket.bind(relay.inputPort, '127.0.0.1', resolve));
    relay.socket.setRecvBufferSize(4 * 1024 * 1024);
    relay.socket.on('message', (message) => relay.forward(message));
    return relay;
  }

  private forward(message: Buffer): void {
    if (!this.impair) {
      this.socket.send(message, this.targetPort, '127.0.0.1');
      return;
    }
    const kept: Buffer[] = [];
    for (let o = 0; o + 188 <= message.length; o += 188) {
      const packet = Buffer.from(message.subarray(o, o + 188));
      const out = this.impair(packet, ((packet[1] & 0x1f) << 8) | packet[2]);
      if (out) kept.push(out);
    }
    if (kept.length) this.socket.send(Buffer.concat(kept), this.targetPort, '127.0.0.1');
  }

  close(): void {
    this.socket.close();
  }
}
