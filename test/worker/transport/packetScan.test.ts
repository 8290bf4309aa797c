/**
 * The WebAssembly scan that counts a transport stream's plain packets (PacketScan, packetScan.wat)
 * changes nothing the analyser reports: a stream damaged in every way TR 101 290 checks gives the
 * same errors, per PID counts, caption carriages and services with the scan as with every packet
 * read by TsAnalyzer itself, however the bytes are cut.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { PacketScan } from '../../../worker/transport/PacketScan.js';
import { crc32 } from '../../../worker/transport/psi.js';
import { PACKET, TsAnalyzer } from '../../../worker/transport/TsAnalyzer.js';
import { captionSei } from '../../fixtures/captionSei.js';
import { fixturePath, fixturesReady } from '../../fixtures/generate.js';

beforeAll(() => fixturesReady(['captions-ok.ts', 'clean.ts']));
afterEach(() => vi.restoreAllMocks());

/** A deterministic stream of pseudo-random numbers in [0, n). */
function random(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state % n;
  };
}

/** `clip`'s packets, about one in twelve damaged: dropped, sent twice, flagged, cut or rewritten. */
function damaged(clip: Uint8Array, seed: number): Uint8Array {
  const r = random(seed);
  const out: Uint8Array[] = [];
  for (let at = 0; at + PACKET <= clip.length; at += PACKET) {
    const p = clip.slice(at, at + PACKET);
    const roll = r(240);
    if (roll === 0) continue; // lost
    if (roll === 1)
      out.push(p); // sent twice
    else if (roll === 2)
      p[1] |= 0x80; // transport error indicator
    else if (roll === 3)
      p[3] |= 0x80; // scrambled
    else if (roll === 4) p[4 + r(184)] = r(256);
    else if (roll === 5)
      p[0] = 0x46; // sync byte
    else if (roll === 6)
      p[3] = (p[3] & 0xf0) | r(16); // continuity counter
    else if (roll === 7)
      p[1] ^= 0x40; // payload unit start
    else if (roll === 8)
      p[3] = (p[3] & 0xcf) | (r(4) << 4); // adaptation field control
    else if (roll === 9)
      p[5] ^= 0x90; // PCR and discontinuity flags
    else if (roll === 10)
      for (let k = 4; k < 24; k++) p[k] = r(3) === 0 ? 0 : r(2); // start codes
    else if (roll === 11) {
      out.push(p.subarray(0, r(PACKET))); // cut short
      continue;
    }
    out.push(p);
  }
  return Buffer.concat(out);
}

const VIDEO_PID = 0x100;
const PMT_PID = 0x1000;

/** A PSI section on `pid` in one packet, its CRC-32 appended. */
function psiPacket(pid: number, section: number[], cc: number): Uint8Array {
  const crc = crc32(Uint8Array.from(section), 0, section.length);
  const payload = [0, ...section, crc >>> 24, (crc >> 16) & 0xff, (crc >> 8) & 0xff, crc & 0xff];
  const p = new Uint8Array(PACKET).fill(0xff);
  p.set([0x47, 0x40 | (pid >> 8), pid & 0xff, 0x10 | cc, ...payload]);
  return p;
}

/**
 * An H.264 elementary stream in a transport stream, a picture a PES, each PES ending with its
 * caption SEI whose start code ends (its 01 byte) at byte `at` of the PES: past its first
 * packet, at a packet's first or second byte (the start code split between two packets) — where
 * only the packet scan sees the start code before the analyser does.
 */
function captionsAt(at: number, pictures: number): Uint8Array {
  const packets: Uint8Array[] = [];
  const r = random(7);
  const slice = (n: number) =>
    Buffer.from([0, 0, 0, 1, 0x65, ...Array.from({ length: n }, () => 2 + r(254))]);
  let cc = 0;
  for (let n = 0; n < pictures; n++) {
    if (n % 10 === 0) {
      packets.push(
        psiPacket(0, [0x00, 0xb0, 13, 0, 1, 0xc1, 0, 0, 0, 1, 0xe0 | (PMT_PID >> 8), PMT_PID & 0xff], 0),
      );
      const pmt = [0x02, 0xb0, 18, 0, 1, 0xc1, 0, 0, 0xe1, 0x00, 0xf0, 0, 0x1b, 0xe1, 0x00, 0xf0, 0];
      packets.push(psiPacket(PMT_PID, pmt, 0));
    }
    // PES header (14 bytes), slice NAL (5 + n bytes), SEI: 00 00 00 01 06 …
    const pes = Buffer.concat([
      Buffer.from([0, 0, 1, 0xe0, 0, 0, 0x80, 0x80, 5, 0x21, 0, 1, 0, 1]),
      slice(at - 22),
      captionSei(n),
    ]);
    for (let from = 0; from < pes.length; from += 184) {
      const chunk = pes.subarray(from, from + 184);
      const p = new Uint8Array(PACKET).fill(0xff);
      const start = from === 0 ? 0x40 : 0;
      if (chunk.length === 184)
        p.set([0x47, start | (VIDEO_PID >> 8), VIDEO_PID & 0xff, 0x10 | cc, ...chunk]);
      else {
        // The PES's last packet: stuffing in an adaptation field fills it.
        const stuffing = 183 - chunk.length;
        p.set([0x47, start | (VIDEO_PID >> 8), VIDEO_PID & 0xff, 0x30 | cc, stuffing]);
        if (stuffing > 0) p[5] = 0;
        p.set(chunk, PACKET - chunk.length);
      }
      packets.push(p);
      cc = (cc + 1) & 0x0f;
    }
  }
  return Buffer.concat(packets);
}

/**
 * Everything the analyser says about `stream`, fed in pieces of the given sizes in turn, with the
 * scan (a recorded file's pass) or reading every packet itself (live feeds).
 */
function analyse(stream: Uint8Array, clock: 'pcr' | 'arrival', pieces: number[], scan = true): string[] {
  const analyzer = new TsAnalyzer({ clock, pidTimeoutSeconds: 1, scan });
  const said: string[] = [];
  let nowMs = 0;
  for (let at = 0, k = 0; at < stream.length; k++) {
    const size = pieces[k % pieces.length];
    analyzer.push(stream.subarray(at, at + size), nowMs);
    at += size;
    nowMs += 3;
    if (k % 7 === 0) {
      analyzer.check(nowMs);
      said.push(JSON.stringify(analyzer.take()));
    }
  }
  said.push(JSON.stringify(analyzer.take()), JSON.stringify(analyzer.report));
  return said;
}

describe('the packet scan', () => {
  it('counts most packets of a clean stream without the analyser reading them, and only when asked', () => {
    const clip = readFileSync(fixturePath('captions-ok.ts'));
    const scan = vi.spyOn(PacketScan.prototype, 'scan');
    const read = vi.spyOn(TsAnalyzer.prototype as unknown as { packet: () => void }, 'packet');

    analyse(clip, 'pcr', [PACKET * 64]);

    expect(scan).toHaveBeenCalled();
    expect(read.mock.calls.length).toBeLessThan(clip.length / PACKET / 4);
    scan.mockClear();
    read.mockClear();
    analyse(clip, 'arrival', [1316], false);
    expect(scan).not.toHaveBeenCalled();
    expect(read.mock.calls.length).toBe(Math.floor(clip.length / PACKET));
  });

  it('finds captions whose start code lies past the first packet of a PES, or across two packets', () => {
    for (const at of [184, 185, 186, 368, 369, 1656, 1657, 1700]) {
      const stream = captionsAt(at, 20);

      const said = analyse(stream, 'arrival', [PACKET * 64]);
      const carriages = new Set(said.flatMap((line) => JSON.parse(line).captions ?? []));

      expect([...carriages].sort()).toEqual(['608-field1', '708']);
      expect(analyse(stream, 'arrival', [PACKET * 64], false)).toEqual(said);
    }
  });

  for (const name of ['captions-ok.ts', 'clean.ts']) {
    it(`changes nothing the analyser reports on ${name}, damaged, on either clock, however it is cut`, () => {
      const clip = readFileSync(fixturePath(name));
      for (const seed of [1, 2, 3]) {
        const stream = damaged(clip, seed);
        for (const clock of ['pcr', 'arrival'] as const) {
          // Datagrams, odd cuts, and whole segments (read a window at a time).
          for (const pieces of [[PACKET * 64], [1316, 999, PACKET * 7, 5], [stream.length]]) {
            const scanned = analyse(stream, clock, pieces);
            const readOneByOne = analyse(stream, clock, pieces, false);

            expect(scanned).toEqual(readOneByOne);
          }
        }
      }
    });
  }
});
