/**
 * What thumbnails and alarm evidence add to a stream's cost on top of its analysis, measured on
 * the density clip (720p25 H.264 + AAC): the converter's ffmpeg exactly as a worker runs it, with
 * and without the thumbnail branch (split, one picture every 2 s scaled to 320 px and encoded as
 * JPEG), pipes drained to /dev/null, PAIRS interleaved pairs, the median of their differences; and the worker's own part
 * (cutting the JPEGs out of the pipe, the sound level of every chunk, the thumbnail store) timed
 * over the same minute of media. A difference of a fraction of a percent drowns in a density
 * run's noise; this measures it where it is.
 */
import { execFileSync } from 'node:child_process';
import { pino } from 'pino';
import type { MediaStore } from '../../shared/media/MediaStore.js';
import { ffmpegArgs } from '../../worker/converter/ffmpegArgs.js';
import { probeInput } from '../../worker/converter/probe.js';
import { Thumbnails } from '../../worker/converter/Thumbnails.js';
import { Evidence, PICTURE_SECONDS } from '../../worker/pipeline/Evidence.js';
import { measure } from './measure.js';

const PAIRS = 7;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];

export interface PicturesCost {
  /** CPU seconds per media second of the converter without and with the thumbnail branch. */
  ffmpegWithout: number;
  ffmpegWith: number;
  /** The worker's own part, CPU seconds per media second. */
  node: number;
  /** All of it, in % of one core per stream. */
  percentOfCore: number;
}

export async function picturesCost(clip: string): Promise<PicturesCost> {
  const tracks = await probeInput(clip, { kind: 'file' });
  const run = (thumbnailSeconds: number) =>
    measure([
      'bash',
      '-c',
      'exec ffmpeg "$@" 3>/dev/null 4>/dev/null 5>/dev/null',
      'converter',
      ...ffmpegArgs(clip, {
        kind: 'file',
        tracks,
        realtime: false,
        skipNonReference: true,
        thumbnailSeconds,
      }),
    ]);
  // Each pair's own difference, then their median: a slow drift of the machine's speed, which
  // moves both runs of a pair alike, cancels out (a difference of medians keeps it).
  const without: number[] = [];
  const added: number[] = [];
  for (let i = 0; i < PAIRS; i++) {
    const a = (await run(0)).cpuSeconds;
    const b = (await run(PICTURE_SECONDS)).cpuSeconds;
    without.push(a);
    added.push(b - a);
  }
  const duration = tracks.duration ?? 60;

  // The worker's part over the clip's media: its real JPEGs and sound, through the real code.
  const jpegs = execFileSync(
    'ffmpeg',
    [
      '-v',
      'error',
      '-i',
      clip,
      '-vf',
      `fps=1/${PICTURE_SECONDS},scale=320:-2`,
      '-c:v',
      'mjpeg',
      '-q:v',
      '6',
      '-f',
      'image2pipe',
      '-',
    ],
    { maxBuffer: 256 << 20 },
  );
  const pcm = execFileSync(
    'ffmpeg',
    ['-v', 'error', '-i', clip, '-f', 'f32le', '-ac', '2', '-ar', '48000', '-'],
    {
      maxBuffer: 1 << 30,
    },
  );
  const samples = new Float32Array(pcm.buffer, pcm.byteOffset, pcm.byteLength >> 2);
  const store: MediaStore = { put: async () => {}, read: async () => null, bytes: async () => null };
  const before = process.cpuUsage();
  const evidence = new Evidence({
    streamId: 'st_bench',
    store,
    thumbnailSeconds: 5,
    logger: pino({ level: 'silent' }),
  });
  const thumbs = new Thumbnails((jpeg, t) => evidence.picture(jpeg, t));
  const pictures = Math.floor(duration / PICTURE_SECONDS);
  for (let i = 0; i < pictures; i++) thumbs.header(i);
  for (let i = 0; i < jpegs.length; i += 65536) thumbs.bytes(jpegs.subarray(i, i + 65536));
  for (let i = 0; i < pictures; i++) thumbs.placed(i, i);
  for (let i = 0, t = 0; i < samples.length; i += 9600, t += 0.1)
    evidence.sound({ t, wallMs: 0, sampleRate: 48000, channels: 2, samples: samples.subarray(i, i + 9600) });
  const used = process.cpuUsage(before);
  const node = (used.user + used.system) / 1e6 / duration;
  const ffmpegWithout = median(without) / duration;
  const ffmpegWith = ffmpegWithout + median(added) / duration;
  return {
    ffmpegWithout,
    ffmpegWith,
    node,
    percentOfCore: Math.round((ffmpegWith - ffmpegWithout + node) * 10000) / 100,
  };
}
