/**
 * Closed captions read from a transport stream's video: A/53 cc_data in H.264 and HEVC SEI and
 * in MPEG-2 user data, however the bytes are cut into packets; the services they carry (CC1–CC4
 * by their control codes, 708 services by their blocks); FFmpeg itself reads the captions the
 * fixtures carry; and captions.missing when expected and never carried.
 */
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { CaptionScanner } from '../../../worker/transport/captions.js';
import { captionSei, ccData, escapeNal, parity } from '../../fixtures/captionSei.js';
import { fixturePath, fixturesReady } from '../../fixtures/generate.js';
import { events, runCli } from '../../helpers/runCli.js';

/** A slice NAL unit standing in for a picture's data (no start code inside, as the escaping guarantees). */
const slice = Buffer.from([0, 0, 0, 1, 0x65, 0x88, 0x84, 0x21, 0xa0, 0x00, 0x00, 0x03, 0x01, 0x55]);

/** Feeds `stream` in pieces of `piece` bytes. */
function scan(scanner: CaptionScanner, stream: Buffer, piece: number): void {
  for (let at = 0; at < stream.length; at += piece)
    scanner.push(stream, at, Math.min(stream.length, at + piece));
}

describe('CaptionScanner', () => {
  it('reads CEA-608 CC1 and CEA-708 service 1 from H.264 SEI, however the bytes are cut', () => {
    const pictures = Buffer.concat(
      Array.from({ length: 16 }, (_, n) => Buffer.concat([captionSei(n), slice])),
    );
    for (const piece of [1, 7, 184, pictures.length]) {
      const scanner = new CaptionScanner('h264');
      scan(scanner, pictures, piece);
      scanner.pesStart();
      expect([...scanner.services].sort()).toEqual(['708-1', 'CC1']);
      expect(scanner.take().sort()).toEqual(['608-field1', '708']);
      expect(scanner.take()).toEqual([]);
    }
  });

  it('tells CC2, CC3 and CC4 by field and control codes, and padding alone from a service', () => {
    const triplets = (field: number, a: number, b: number) => [
      0x40 | 1,
      0xff,
      0xfc | field,
      parity(a),
      parity(b),
    ];
    const user = (cc: number[]) => Buffer.from([0, 0, 1, 0xb2, 0x47, 0x41, 0x39, 0x34, 0x03, ...cc, 0xff]);
    const scanner = new CaptionScanner('mpeg2');
    scan(scanner, Buffer.concat([user(triplets(0, 0, 0)), Buffer.from([0, 0, 1, 0x00, 0x11])]), 5);
    scanner.pesStart();
    // Padding: the carriage is there, no service yet.
    expect(scanner.take()).toEqual(['608-field1']);
    expect(scanner.services.size).toBe(0);
    const codes = [
      user(triplets(0, 0x1c, 0x20)), // field 1, channel 2: CC2
      user(triplets(1, 0x15, 0x20)), // field 2, channel 1: CC3
      user(triplets(1, 0x1d, 0x20)), // field 2, channel 2: CC4
      user(triplets(1, 0x41, 0x42)), // text, on the last channel chosen: CC4
      Buffer.from([0, 0, 1, 0x00]),
    ];
    scan(scanner, Buffer.concat(codes), 3);
    scanner.pesStart();
    expect([...scanner.services].sort()).toEqual(['CC2', 'CC3', 'CC4']);
    expect(scanner.take().sort()).toEqual(['608-field1', '608-field2']);
  });

  it('reads HEVC prefix SEI (two-byte NAL header)', () => {
    // A 708 packet for service 1 (block size 3), the NAL escaped as an encoder writes it.
    const cc = [0x40 | 2, 0xff, 0xff, (0 << 6) | 2, 0x23, 0xfe, 0x00, 0x00];
    const t35 = [0xb5, 0x00, 0x31, 0x47, 0x41, 0x39, 0x34, 0x03, ...cc, 0xff];
    const rbsp = [0x04, t35.length, ...t35, 0x80];
    const escaped = escapeNal(rbsp);
    const nal = Buffer.from([0, 0, 0, 1, 39 << 1, 0x01, ...escaped, 0, 0, 0, 1, 0x02, 0x01]);
    const scanner = new CaptionScanner('hevc');
    scan(scanner, nal, 2);
    expect([...scanner.services]).toEqual(['708-1']);
    expect(scanner.take()).toEqual(['708']);
    expect(ccData(0)[0]).toBe(0x43);
  });
});

describe('captions in the fixtures and through analyze', () => {
  beforeAll(() => fixturesReady(['captions-ok.ts', 'clean.ts']));

  it('are the captions FFmpeg itself finds', () => {
    // FFmpeg's H.264 decoder finds A/53 captions in the stream and says so in its stream line.
    const { stderr } = spawnSync('ffmpeg', ['-hide_banner', '-i', fixturePath('captions-ok.ts')], {
      encoding: 'utf8',
    });
    expect(stderr).toMatch(/Video: h264 .*Closed Captions/);
  });

  it('reports the services with --transport, and captions.missing when expected and never carried', async () => {
    const ok = await runCli(['analyze', '--transport', fixturePath('captions-ok.ts')]);
    expect(JSON.parse(ok.stdout.trim().split('\n').at(-1) ?? '').transport.captionServices).toEqual([
      'CC1',
      '708-1',
    ]);
    const none = await runCli(['analyze', '--expect', 'audio,video,captions', fixturePath('clean.ts')]);
    const missing = events(none.stdout).filter((e) => e.type === 'captions.missing');
    expect(missing).toHaveLength(1);
    expect(missing[0].detail.missing).toBe('captions (expected, none carried)');
  });
});
