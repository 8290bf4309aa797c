/**
 * The cheap look at a rendition that is not decoded: its key frames only (`-skip_frame nokey`),
 * from one segment's bytes already in memory, each scaled to a 160×90 grey thumbnail. Enough to
 * tell a black picture and a picture that stopped changing; nothing finer (no corruption, no sound).
 */
import { spawn } from 'node:child_process';
import { lowerPriority } from '../converter/decoderPriority.js';
import { parseStderrLine } from '../converter/stderrLines.js';
import { lumaLevel } from '../converter/types.js';

export const THUMB_WIDTH = 160;
export const THUMB_HEIGHT = 90;
const THUMB_BYTES = THUMB_WIDTH * THUMB_HEIGHT;
/** Thumbnail cells (8×8 thumbnail pixels, about 1/20 of the picture's width each). */
const CELL = 8;
/**
 * Largest mean absolute difference (0–255) of any thumbnail cell between two key frames that
 * still counts as the same picture. Two key frames of one still picture are two encodings of it:
 * under rate control at low bitrates (250 kb/s at 320×180) their quantisation noise differs by up
 * to about 2 in detailed cells; a face talking, a ticker or a hand moving changes some cell by
 * far more (the tests' moving picture: about 74, six seconds apart).
 */
export const KEYFRAME_NOISE = 4;

export interface KeyframeSample {
  /** Source timestamp (seconds; the decoder keeps the segment's own timestamps). */
  pts: number;
  thumb: Uint8Array;
  /** Fraction of thumbnail pixels below the black level. */
  blackRatio: number;
}

/**
 * Decodes the key frames of one segment (init section first for fMP4). Rejects when ffmpeg fails
 * or finds no picture; resolves with the key frames in order otherwise.
 */
export function probeKeyframes(
  bytes: Buffer,
  options: { pixelLuma: number; signal?: AbortSignal; ffmpeg?: string },
): Promise<KeyframeSample[]> {
  const args = [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'level+info',
    '-protocol_whitelist',
    'pipe',
    '-copyts',
    '-threads',
    '1',
    '-skip_frame',
    'nokey',
    '-i',
    'pipe:0',
    '-map',
    '0:v:0',
    '-vf',
    `scale=${THUMB_WIDTH}:${THUMB_HEIGHT}:flags=area,format=gray,showinfo=checksum=0`,
    '-fps_mode',
    'passthrough',
    '-f',
    'rawvideo',
    'pipe:1',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(options.ffmpeg ?? 'ffmpeg', args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      signal: options.signal,
    });
    lowerPriority(child);
    const frames: Buffer[] = [];
    const times: number[] = [];
    let stderr = '';
    let lastError = '';
    let fullRange = false;
    child.stdout.on('data', (c: Buffer) => frames.push(c));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      stderr += text;
      const lines = stderr.split('\n');
      stderr = lines.pop() ?? '';
      for (const line of lines) {
        const parsed = parseStderrLine(line);
        if (parsed.kind === 'video' && parsed.pts !== null) times.push(parsed.pts);
        else if (parsed.kind === 'range') fullRange = parsed.fullRange;
        else if (
          parsed.kind === 'decodeError' ||
          (parsed.kind === 'other' && /error|fatal/.test(parsed.level))
        )
          lastError = line;
      }
    });
    child.on('error', (e) => reject(e));
    child.stdin.on('error', () => {}); // ffmpeg may stop reading early; its exit code tells
    child.on('close', (code) => {
      const all = Buffer.concat(frames);
      const count = Math.min(times.length, Math.floor(all.length / THUMB_BYTES));
      if (code !== 0 || count === 0) {
        reject(new Error(lastError || `no key frame decoded (ffmpeg exit ${code})`));
        return;
      }
      const level = lumaLevel({ fullRange }, options.pixelLuma);
      const samples: KeyframeSample[] = [];
      for (let i = 0; i < count; i++) {
        const thumb = new Uint8Array(all.subarray(i * THUMB_BYTES, (i + 1) * THUMB_BYTES));
        let dark = 0;
        for (const v of thumb) if (v < level) dark++;
        samples.push({ pts: times[i], thumb, blackRatio: dark / THUMB_BYTES });
      }
      resolve(samples);
    });
    child.stdin.end(bytes);
  });
}

/** The largest mean absolute difference of any cell between two thumbnails (0–255). */
export function thumbChange(a: Uint8Array, b: Uint8Array): number {
  let worst = 0;
  for (let y0 = 0; y0 + CELL <= THUMB_HEIGHT; y0 += CELL) {
    for (let x0 = 0; x0 + CELL <= THUMB_WIDTH; x0 += CELL) {
      let sum = 0;
      for (let y = y0; y < y0 + CELL; y++) {
        const row = y * THUMB_WIDTH;
        for (let x = x0; x < x0 + CELL; x++) sum += Math.abs(a[row + x] - b[row + x]);
      }
      worst = Math.max(worst, sum / (CELL * CELL));
    }
  }
  return worst;
}
