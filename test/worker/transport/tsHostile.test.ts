/**
 * TR 101 290 under hostile transport streams built packet by packet: tables spanning several
 * packets (a PAT of 200 programs whose PMTs never come, a PMT of 150 streams), a PCR stepping back
 * a second per packet, absurd PES lengths and garbage: the checks still fire (1.5 PMT, 2.3 PCR)
 * and what the analyser keeps stays bounded.
 */
import { describe, expect, it } from 'vitest';
import { crc32, PACKET, type TransportErrors, TsAnalyzer } from '../../../worker/transport/TsAnalyzer.js';

const cc = new Map<number, number>();

/** TS packets carrying one PSI section (table id, body) on `pid`, split as needed. */
function psi(pid: number, tableId: number, body: number[]): Buffer[] {
  // section: table_id, syntax+length (2), id (2), version (1), section (1), last (1), body, CRC
  const length = 5 + body.length + 4;
  const section = Buffer.from([
    tableId,
    0xb0 | (length >> 8),
    length & 0xff,
    0,
    1,
    0xc1,
    0,
    0,
    ...body,
    0,
    0,
    0,
    0,
  ]);
  const crc = crc32(section, 0, section.length - 4);
  section.writeUInt32BE(crc, section.length - 4);
  const payload = Buffer.concat([Buffer.from([0]), section]);
  const out: Buffer[] = [];
  for (let at = 0; at < payload.length; at += 184) {
    const chunk = payload.subarray(at, at + 184);
    out.push(packet(pid, chunk, at === 0));
  }
  return out;
}

function packet(pid: number, payload: Buffer, start: boolean, adaptation?: Buffer): Buffer {
  const p = Buffer.alloc(PACKET, 0xff);
  const counter = cc.get(pid) ?? 0;
  cc.set(pid, (counter + 1) & 0x0f);
  p[0] = 0x47;
  p[1] = (start ? 0x40 : 0) | ((pid >> 8) & 0x1f);
  p[2] = pid & 0xff;
  let at = 4;
  if (adaptation) {
    p[3] = 0x30 | counter;
    p[4] = adaptation.length;
    adaptation.copy(p, 5);
    at = 5 + adaptation.length;
  } else p[3] = 0x10 | counter;
  payload.copy(p, at, 0, Math.min(payload.length, PACKET - at));
  return p;
}

const pat = (programs: number[]) =>
  psi(
    0,
    0x00,
    programs.flatMap((pmtPid, i) => [
      ((i + 1) >> 8) & 0xff,
      (i + 1) & 0xff,
      0xe0 | (pmtPid >> 8),
      pmtPid & 0xff,
    ]),
  );

const pmt = (pmtPid: number, pcrPid: number, streams: number[]) =>
  psi(pmtPid, 0x02, [
    0xe0 | (pcrPid >> 8),
    pcrPid & 0xff,
    0xf0,
    0,
    ...streams.flatMap((pid) => [0x1b, 0xe0 | (pid >> 8), pid & 0xff, 0xf0, 0]),
  ]);

/** A video PES start whose adaptation field carries a PCR at `seconds`. */
function pcrPacket(pid: number, seconds: number): Buffer {
  const ticks = Math.round(seconds * 90_000);
  const base = [
    Math.floor(ticks / 2 ** 25) & 0xff,
    Math.floor(ticks / 2 ** 17) & 0xff,
    Math.floor(ticks / 2 ** 9) & 0xff,
    Math.floor(ticks / 2) & 0xff,
    ((ticks & 1) << 7) | 0x7e,
    0,
  ];
  return packet(
    pid,
    Buffer.from([0, 0, 1, 0xe0, 0xff, 0xff, 0x80, 0, 0]),
    true,
    Buffer.from([0x10, ...base]),
  );
}

/** Feeds packets 10 ms apart, checking as it goes; the errors summed. */
function run(analyzer: TsAnalyzer, packets: Buffer[], msApart = 10): TransportErrors {
  const total: Record<string, number> = {};
  packets.forEach((p, i) => {
    analyzer.push(p, i * msApart);
    analyzer.check(i * msApart);
    for (const [k, v] of Object.entries(analyzer.take())) total[k] = (total[k] ?? 0) + v;
  });
  return total as unknown as TransportErrors;
}

describe('TR 101 290 under hostile transport streams', () => {
  it('1.5: a PAT of 200 programs (several packets) whose PMTs never come', () => {
    const programs = Array.from({ length: 200 }, (_, i) => 0x100 + i);
    const stream: Buffer[] = [];
    for (let k = 0; k < 300; k++)
      stream.push(...(k % 10 === 0 ? pat(programs) : [packet(0x1fff, Buffer.alloc(0), false)]));
    const analyzer = new TsAnalyzer();
    const errors = run(analyzer, stream);
    expect(analyzer.tables.pmtPids).toHaveLength(200);
    expect(errors.pmt).toBeGreaterThan(0);
    expect(errors.pat).toBe(0);
  });

  it('2.3: the PCR of a PMT with 150 streams (several packets) stepping back a second per packet', () => {
    const streams = Array.from({ length: 150 }, (_, i) => 0x200 + i);
    const stream: Buffer[] = [];
    for (let k = 0; k < 200; k++) {
      if (k % 20 === 0) stream.push(...pat([0x100]), ...pmt(0x100, 0x200, streams));
      stream.push(pcrPacket(0x200, 1000 - k));
    }
    const analyzer = new TsAnalyzer();
    const errors = run(analyzer, stream);
    expect(analyzer.tables.esPids).toHaveLength(150);
    expect(errors.pcr).toBeGreaterThan(150);
    expect(errors.pmt).toBe(0);
  });

  it('stays bounded and keeps counting through garbage, 65,000-byte datagrams and absurd PES lengths', () => {
    const analyzer = new TsAnalyzer();
    const garbage = Buffer.alloc(65_000);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919) & 0xff;
    let errors = run(analyzer, [garbage, garbage, garbage]);
    expect(errors.syncByte).toBeGreaterThan(0);
    // A PES claiming 65,535 bytes on every packet of a stream the PMT names.
    const absurd = Array.from({ length: 50 }, () =>
      packet(0x300, Buffer.from([0, 0, 1, 0xe0, 0xff, 0xff, 0x80, 0x80, 5, 0x21, 0, 1, 0, 1]), true),
    );
    errors = run(analyzer, [...pat([0x100]), ...pmt(0x100, 0x300, [0x300]), ...absurd]);
    expect(errors.crc + errors.pmt).toBe(0);
    expect(analyzer.tables.esPids).toEqual([0x300]);
  });
});
