/**
 * Synthetic live sources for the demo: two 60 s clips with known defects (made once with ffmpeg
 * lavfi, nothing downloaded), played in a loop at real time, one as HLS served over HTTP on
 * 127.0.0.1 and one as MPEG-TS over UDP to 127.0.0.1. Played with stream copy: no encoding cost.
 */
import { type ChildProcess, execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { DefectType } from '../shared/events.js';
import { serveHlsFolder } from './hlsFileServer.js';
import { spawnTied } from './tiedChild.js';

const run = promisify(execFile);

/** What the demo clips carry, in seconds of each 60 s loop. */
export const DEMO_DEFECTS = {
  'studio-a (HLS)': 'black 10–14 s, silence 30–34 s, clipping 45–48 s',
  'studio-b (UDP)':
    'frozen 15–20 s; the demo also cuts the feed for 6 s once (stream loss); each loop point is a 0.13 s PCR jump without the discontinuity flag (transport.pcr, TR 101 290 2.3)',
};

/** The defect types each demo stream carries: any other alarm on it is a false alarm. */
export const DEMO_INJECTED: Record<'studio-a' | 'studio-b', readonly DefectType[]> = {
  'studio-a': ['video.black', 'audio.silence', 'audio.clipping'],
  'studio-b': ['video.freeze', 'stream.loss'],
};

/**
 * What the demo's own senders get wrong, reported rightly but not injected: FFmpeg's looping UDP
 * sender (-stream_loop, -c copy) jumps the timestamps at each loop point without the
 * discontinuity flag. Allowed, not required (the feed cut moves the loop point past a short run).
 */
export const DEMO_ARTEFACTS: Record<'studio-a' | 'studio-b', readonly DefectType[]> = {
  'studio-a': [],
  'studio-b': ['transport.pcr'],
};

const TONE = '0.075*sin(2*PI*440*t)';

async function makeClip(path: string, video: string, audio: string): Promise<void> {
  if (existsSync(path)) return;
  const tmp = `${path}.tmp.ts`;
  await run('ffmpeg', [
    '-hide_banner',
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    video,
    '-f',
    'lavfi',
    '-i',
    `aevalsrc='${audio}|${audio}':c=stereo:s=48000:d=60`,
    '-t',
    '60',
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-g',
    '25',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-b:a',
    '96k',
    '-f',
    'mpegts',
    tmp,
  ]);
  await run('mv', [tmp, path]);
}

export interface DemoSources {
  hlsUrl: string;
  udpUrl: string;
  /** Stops the UDP feed for `seconds`, then starts it again. */
  interruptUdp(seconds: number): Promise<void>;
  stop(): Promise<void>;
}

function playLoop(args: string[]): ChildProcess {
  return spawnTied('ffmpeg', ['-hide_banner', '-v', 'error', '-re', '-stream_loop', '-1', ...args], {
    stdio: 'ignore',
  });
}

/** Builds the clips if needed and starts both feeds. */
export async function startDemoSources(dir: string, udpPort: number): Promise<DemoSources> {
  // A playlist left by an earlier run would be served until the packager's first write: a
  // packager that restarted its numbering (delivery.sequence), which this demo does not inject.
  rmSync(join(dir, 'hls'), { recursive: true, force: true });
  mkdirSync(join(dir, 'hls'), { recursive: true });
  const a = join(dir, 'studio-a.ts');
  const b = join(dir, 'studio-b.ts');
  await Promise.all([
    makeClip(
      a,
      "testsrc2=s=640x360:r=25:d=60,drawbox=c=black:t=fill:enable='between(t,10,14)'",
      `if(between(t,30,34),0,if(between(t,45,48),max(-1,min(1,3*sin(2*PI*440*t))),${TONE}))`,
    ),
    makeClip(
      b,
      'testsrc2=s=640x360:r=25:d=60,split[x][y];[x][y]freezeframes=first=375:last=500:replace=375',
      TONE,
    ),
  ]);
  const hls = playLoop([
    '-i',
    a,
    '-c',
    'copy',
    '-f',
    'hls',
    '-hls_time',
    '1',
    '-hls_list_size',
    '6',
    '-hls_flags',
    'delete_segments+omit_endlist',
    join(dir, 'hls', 'live.m3u8'),
  ]);
  const udpTarget = `udp://127.0.0.1:${udpPort}?pkt_size=1316`;
  let udp = playLoop(['-i', b, '-c', 'copy', '-f', 'mpegts', udpTarget]);
  const server = await serveHlsFolder(join(dir, 'hls'));
  // Give the HLS muxer time to write its first segments before anyone asks for the playlist.
  for (let i = 0; i < 50 && !existsSync(join(dir, 'hls', 'live.m3u8')); i++)
    await new Promise((r) => setTimeout(r, 200));
  return {
    hlsUrl: `${server.baseUrl}live.m3u8`,
    udpUrl: `udp://127.0.0.1:${udpPort}`,
    async interruptUdp(seconds) {
      udp.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, seconds * 1000));
      udp = playLoop(['-i', b, '-c', 'copy', '-f', 'mpegts', udpTarget]);
    },
    async stop() {
      hls.kill('SIGKILL');
      udp.kill('SIGKILL');
      await server.close();
    },
  };
}
