/**
 * fMP4 segment starts (tfdt, the first sample's composition offset, the edit list) against what
 * FFmpeg's own demuxer presents: the earliest packet PTS of the initialization section followed by
 * that one segment, read by ffprobe — with B-frames (a composition offset and an edit list that
 * starts the video later) and without (an empty edit that delays it).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fragmentStart, initTracks } from '../../../worker/delivery/fmp4Time.js';
import { SegmentStarts } from '../../../worker/delivery/segmentStart.js';
import { earliestPts } from '../../../worker/transport/psi.js';
import { segmentableH264Aac } from '../../helpers/cutHlsOrigin.js';

/** A 6 s HLS fMP4 ladder of one rendition (H.264 + AAC) in 2 s segments; `preset` ultrafast has no B-frames. */
function fmp4Hls(preset: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'streamqc-fmp4-'));
  execFileSync('ffmpeg', [
    ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=s=320x240:r=25:d=6'],
    ...['-f', 'lavfi', '-i', 'sine=r=48000:d=6'],
    ...segmentableH264Aac(preset),
    ...['-f', 'hls', '-hls_time', '2', '-hls_playlist_type', 'vod', '-hls_segment_type', 'fmp4'],
    ...['-hls_segment_filename', join(dir, 'seg%d.m4s'), join(dir, 'vod.m3u8')],
  ]);
  return dir;
}

/** The earliest packet PTS FFmpeg's demuxer gives the segment, read after its initialization section. */
function demuxedStart(dir: string, segment: string): number {
  const joined = join(dir, `joined-${segment}.mp4`);
  writeFileSync(
    joined,
    Buffer.concat([readFileSync(join(dir, 'init.mp4')), readFileSync(join(dir, segment))]),
  );
  const csv = execFileSync(
    'ffprobe',
    ['-v', 'error', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', joined],
    {
      encoding: 'utf8',
    },
  );
  return Math.min(...csv.trim().split('\n').map(Number));
}

describe('fMP4 segment starts', () => {
  for (const [name, preset] of [
    ['with B-frames', 'medium'],
    ['without B-frames', 'ultrafast'],
  ] as const) {
    it(`match the demuxer's earliest PTS, ${name}`, () => {
      const dir = fmp4Hls(preset);
      const tracks = initTracks(readFileSync(join(dir, 'init.mp4')));
      expect(tracks?.size).toBe(2);
      for (const segment of ['seg0.m4s', 'seg1.m4s', 'seg2.m4s']) {
        const start = fragmentStart(readFileSync(join(dir, segment)), tracks!);
        expect(start, segment).not.toBeNull();
        expect(Math.abs((start as number) - demuxedStart(dir, segment)), segment).toBeLessThan(0.001);
      }
    }, 60_000);
  }

  it('SegmentStarts remembers an initialization section and dates TS and fMP4 segments', () => {
    const dir = fmp4Hls('ultrafast');
    const starts = new SegmentStarts();
    const segment = readFileSync(join(dir, 'seg1.m4s'));
    expect(starts.sourceStart(segment, 'http://o/init.mp4')).toBeNull();
    expect(starts.remember('http://o/seg1.m4s', segment)).toBe(false);
    expect(starts.remember('http://o/init.mp4', readFileSync(join(dir, 'init.mp4')))).toBe(true);
    expect(starts.sourceStart(segment, 'http://o/init.mp4')).toBeCloseTo(demuxedStart(dir, 'seg1.m4s'), 3);
    // A TS segment: its earliest PTS, as before.
    const ts = join(dir, 'seg.ts');
    execFileSync('ffmpeg', ['-v', 'error', '-i', join(dir, 'vod.m3u8'), '-c', 'copy', '-f', 'mpegts', ts]);
    const bytes = readFileSync(ts);
    expect(starts.remember('http://o/seg.ts', bytes)).toBe(false);
    expect(starts.sourceStart(bytes)).toBe(earliestPts(bytes));
  }, 60_000);

  it('hostile bytes give null or a number, never a throw or a long loop', () => {
    const dir = fmp4Hls('ultrafast');
    const init = readFileSync(join(dir, 'init.mp4'));
    const segment = readFileSync(join(dir, 'seg1.m4s'));
    const tracks = initTracks(init)!;
    const box = (type: string, size: number, body = Buffer.alloc(0)) => {
      const head = Buffer.alloc(8);
      head.writeUInt32BE(size);
      head.write(type, 4, 'latin1');
      return Buffer.concat([head, body]);
    };
    const hostile = [
      Buffer.alloc(0),
      Buffer.from('garbage, not boxes at all'),
      box('moof', 0xffffffff),
      box('moof', 4),
      box('moov', 1),
      box('moov', 0, box('trak', 0, box('tkhd', 9))),
      Buffer.concat(Array.from({ length: 5000 }, () => box('free', 8))),
      init.subarray(0, init.length - 7),
      segment.subarray(0, 40),
      // An edit list that claims four billion entries.
      Buffer.from(init.toString('latin1').replace(/elst(.{4})(.{4})/s, 'elst$1\xff\xff\xff\xff'), 'latin1'),
    ];
    for (const bytes of hostile) {
      const parsed = initTracks(bytes);
      const start = fragmentStart(bytes, tracks);
      expect(parsed === null || parsed instanceof Map).toBe(true);
      expect(start === null || Number.isFinite(start)).toBe(true);
    }
  }, 60_000);
});
