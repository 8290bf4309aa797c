/**
 * TR 101 290 on a recorded transport stream through `streamqc analyze`: a real FFmpeg-made TS whose
 * video packets are then edited one by one, so the continuity errors ISO/IEC 13818-1 §2.4.3.3
 * defines are known exactly: a packet sent twice is legal, a third copy is not; a lost packet is
 * an error; a packet with no payload (adaptation field only) keeps the counter, and one that moves
 * it is an error.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeClip } from '../helpers/clips.js';
import { events, runCli } from '../helpers/runCli.js';

const PACKET = 188;
const VIDEO_PID = 0x100;
const dir = mkdtempSync(join(tmpdir(), 'streamqc-ts-file-'));
const clean = join(dir, 'clean.ts');
const edited = join(dir, 'edited.ts');

const pidOf = (p: Buffer) => ((p[1] & 0x1f) << 8) | p[2];
const hasPayload = (p: Buffer) => (p[3] & 0x10) !== 0;
const hasPcr = (p: Buffer) => (p[3] & 0x20) !== 0 && p[4] > 0 && (p[5] & 0x10) !== 0;

/** A packet of the PID with only an adaptation field (stuffing), continuity counter `cc`. */
function adaptationOnly(pid: number, cc: number): Buffer {
  const p = Buffer.alloc(PACKET, 0xff);
  p[0] = 0x47;
  p[1] = (pid >> 8) & 0x1f;
  p[2] = pid & 0xff;
  p[3] = 0x20 | (cc & 0x0f);
  p[4] = 183;
  p[5] = 0x00;
  return p;
}

beforeAll(() => {
  makeClip(clean, 10, '', { audio: false });
  const ts = readFileSync(clean);
  const packets: Buffer[] = [];
  for (let o = 0; o + PACKET <= ts.length; o += PACKET) packets.push(Buffer.from(ts.subarray(o, o + PACKET)));
  // Video packets with a payload and no PCR (editing a PCR packet would also be a PCR fault).
  const video = packets
    .map((p, i) => ({ p, i }))
    .filter(({ p }) => pidOf(p) === VIDEO_PID && hasPayload(p) && !hasPcr(p));
  const at = (fraction: number) => video[Math.floor(video.length * fraction)];
  const edits = new Map<number, Buffer[]>();
  // 20 %: sent twice (legal). 35 %: sent three times (one error). 50 %: lost (one error).
  // 65 %: followed by an adaptation-only packet with the same counter (legal).
  // 80 %: followed by an adaptation-only packet that moves the counter on (one error).
  const twice = at(0.2);
  edits.set(twice.i, [twice.p, twice.p]);
  const thrice = at(0.35);
  edits.set(thrice.i, [thrice.p, thrice.p, thrice.p]);
  edits.set(at(0.5).i, []);
  const same = at(0.65);
  edits.set(same.i, [same.p, adaptationOnly(VIDEO_PID, same.p[3] & 0x0f)]);
  const moved = at(0.8);
  edits.set(moved.i, [moved.p, adaptationOnly(VIDEO_PID, (moved.p[3] + 1) & 0x0f)]);
  writeFileSync(edited, Buffer.concat(packets.flatMap((p, i) => edits.get(i) ?? [p])));
});

describe('streamqc analyze on a transport stream file (TR 101 290)', () => {
  it('counts exactly the continuity errors the standard defines, dated on the transport', async () => {
    const result = await runCli(['analyze', '--detectors', 'transport.continuity', edited]);
    expect(result.code, result.stderr).toBe(0);
    const found = events(result.stdout).filter((e) => e.type === 'transport.continuity');
    const total = found.reduce((n, e) => n + Number(e.detail.countContinuityErrors), 0);
    expect(total, JSON.stringify(found)).toBe(3);
    const sum = (key: string) => found.reduce((n, e) => n + Number(e.detail[key] ?? 0), 0);
    // By PID, and what they amount to: one packet lost; two sent twice (one legal, one before the third copy).
    expect(sum('countContinuityErrorsPid0x0100')).toBe(3);
    expect(sum('countMissingPackets')).toBe(1);
    for (const e of found) expect(e.start).toBeGreaterThan(2);
  });

  it('reports per PID with --transport: packets, continuity errors, missing and duplicate packets', async () => {
    const result = await runCli(['analyze', '--detectors', 'transport.continuity', '--transport', edited]);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '').transport;
    const video = report.pids.find((p: { pid: string }) => p.pid === '0x0100');
    const packets = readFileSync(edited).length / PACKET;
    expect(report.packets).toBe(packets);
    expect(video).toMatchObject({ continuityErrors: 3, missing: 1, duplicates: 2 });
    for (const other of report.pids.filter((p: { pid: string }) => p.pid !== '0x0100'))
      expect(other).toMatchObject({ continuityErrors: 0, missing: 0, duplicates: 0 });
  });

  it('judges PCR accuracy (2.4) on a constant-rate stream: one PCR moved by 1 µs is an error', async () => {
    const cbr = join(dir, 'cbr.ts');
    const moved = join(dir, 'cbr-moved.ts');
    makeClip(cbr, 8, '', { audio: false, muxrate: 1_500_000 });
    const ts = Buffer.from(readFileSync(cbr));
    const pcrPackets: number[] = [];
    for (let o = 0; o + PACKET <= ts.length; o += PACKET)
      if (pidOf(ts.subarray(o, o + PACKET)) === VIDEO_PID && hasPcr(ts.subarray(o, o + PACKET)))
        pcrPackets.push(o);
    const at = pcrPackets[Math.floor(pcrPackets.length / 2)] + 6;
    const base =
      ts[at] * 2 ** 25 + (ts[at + 1] << 17) + (ts[at + 2] << 9) + (ts[at + 3] << 1) + (ts[at + 4] >> 7);
    const pcr = base * 300 + (((ts[at + 4] & 1) << 8) | ts[at + 5]) + 27;
    const b = Math.floor(pcr / 300);
    const ext = pcr % 300;
    ts[at] = Math.floor(b / 2 ** 25) & 0xff;
    ts[at + 1] = (b >>> 17) & 0xff;
    ts[at + 2] = (b >>> 9) & 0xff;
    ts[at + 3] = (b >>> 1) & 0xff;
    ts[at + 4] = ((b & 1) << 7) | 0x7e | (ext >> 8);
    ts[at + 5] = ext & 0xff;
    writeFileSync(moved, ts);

    const clean = await runCli(['analyze', '--detectors', 'transport.pcr', '--transport', cbr]);
    const cleanReport = JSON.parse(clean.stdout.trim().split('\n').at(-1) ?? '').transport.pcr;
    expect(cleanReport).toMatchObject({
      pid: '0x0100',
      constantRate: true,
      accuracyErrors: 0,
      bitrate: 1_500_000,
    });
    expect(cleanReport.maxAccuracyNs).toBeLessThanOrEqual(500);
    expect(events(clean.stdout).filter((e) => e.type)).toEqual([]);

    const result = await runCli(['analyze', '--detectors', 'transport.pcr', '--transport', moved]);
    const report = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '').transport.pcr;
    expect(report.accuracyErrors).toBeGreaterThanOrEqual(1);
    expect(Math.abs(report.maxAccuracyNs - 1000)).toBeLessThan(200);
    const raised = events(result.stdout).filter((e) => e.type === 'transport.pcr');
    expect(raised.reduce((n, e) => n + Number(e.detail.countPcrAccuracyErrors), 0)).toBeGreaterThanOrEqual(1);
  });

  it('says a variable-rate file is not judged for accuracy', async () => {
    const result = await runCli([
      'analyze',
      '--detectors',
      'transport.pcr',
      '--transport',
      '--format',
      'text',
      clean,
    ]);
    expect(result.stdout).toMatch(
      /PCR on 0x0100: \d+, interval max [\d.]+ ms, variable rate \(accuracy not judged\)/,
    );
  });

  it('reports nothing on the clean file, every transport check on', async () => {
    const types = ['sync', 'pat', 'pmt', 'continuity', 'pid', 'pcr', 'error'].map((t) => `transport.${t}`);
    const result = await runCli(['analyze', '--detectors', types.join(','), clean]);
    expect(result.code, result.stderr).toBe(0);
    expect(events(result.stdout)).toEqual([]);
  });
});
