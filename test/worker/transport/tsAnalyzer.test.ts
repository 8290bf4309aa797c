/** TR 101 290 checks on a real transport stream from FFmpeg's muxer, damaged packet by packet. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { earliestPts } from '../../../worker/transport/psi.js';
import { addErrors, PACKET, type TransportErrors, TsAnalyzer } from '../../../worker/transport/TsAnalyzer.js';
import { rtpPayload } from '../../../worker/transport/UdpTap.js';
import { fixturePath, fixturesReady } from '../../fixtures/generate.js';

/** No counter above zero, no PID with continuity errors. */
function nothingWrong(errors: TransportErrors): boolean {
  const { continuityByPid, captions, captionServices, ...counts } = errors;
  return (
    Object.keys(continuityByPid).length === 0 &&
    captions.length === 0 &&
    !captionServices?.length &&
    Object.values(counts).every((v) => v === 0)
  );
}

// The fixture clips are made in the background (test/fixtures/globalSetup.ts).
await fixturesReady(['clean.ts']);
const clip = readFileSync(fixturePath('clean.ts'));
const packets = clip.length / PACKET;
/** The clip is 10 s long: packets arrive evenly over it. */
const msPerPacket = 10_000 / packets;

function pidOf(i: number): number {
  return ((clip[i * PACKET + 1] & 0x1f) << 8) | clip[i * PACKET + 2];
}

/** Feeds the clip in 7-packet datagrams, editing packets on the way; returns all errors. */
function analyse(
  edit: (packet: Buffer, index: number) => Buffer | null = (p) => p,
  pidTimeoutSeconds = 5,
): TransportErrors {
  const analyzer = new TsAnalyzer({ pidTimeoutSeconds });
  const total = analyzer.take();
  let datagram: Buffer[] = [];
  const flush = (i: number) => {
    analyzer.push(Buffer.concat(datagram), i * msPerPacket);
    analyzer.check(i * msPerPacket);
    datagram = [];
    addErrors(total, analyzer.take());
  };
  for (let i = 0; i < packets; i++) {
    const edited = edit(Buffer.from(clip.subarray(i * PACKET, (i + 1) * PACKET)), i);
    if (edited) datagram.push(edited);
    if (datagram.length === 7) flush(i);
  }
  if (datagram.length) flush(packets);
  return total;
}

const videoPid = (() => {
  const counts = new Map<number, number>();
  for (let i = 0; i < packets; i++) counts.set(pidOf(i), (counts.get(pidOf(i)) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
})();

describe('TsAnalyzer (TR 101 290)', () => {
  it('finds nothing wrong in a clean stream, and reads its tables', () => {
    expect(nothingWrong(analyse())).toBe(true);
    const analyzer = new TsAnalyzer();
    analyzer.push(clip, 0);
    expect(analyzer.tables.pmtPids).toHaveLength(1);
    expect(analyzer.tables.esPids).toContain(videoPid);
    expect(analyzer.tables.esPids).toHaveLength(2);
  });

  it('misses the PMT and a PID the PMT names when they stop', () => {
    const analyzer = new TsAnalyzer();
    analyzer.push(clip.subarray(0, 1000 * PACKET), 0);
    const [pmtPid] = analyzer.tables.pmtPids;
    const gone = (i: number) => i > packets / 2 && (pidOf(i) === pmtPid || pidOf(i) === videoPid);
    const errors = analyse((p, i) => (gone(i) ? null : p), 2);
    expect(errors.pmt).toBeGreaterThanOrEqual(5);
    // Gone for 5 s with a 2 s timeout: reported at 2 s and again at 4 s.
    expect(errors.pid).toBe(2);
  });

  it('counts continuity errors when one video packet in 200 is lost', () => {
    let seen = 0;
    const errors = analyse((p, i) => (pidOf(i) === videoPid && ++seen % 200 === 0 ? null : p));
    expect(errors.continuity).toBe(Math.floor(seen / 200));
    expect(errors.syncByte + errors.pat + errors.pmt + errors.tei).toBe(0);
  });

  it('tells a sync byte error from sync loss', () => {
    const one = analyse((p, i) => {
      if (i === 1000) p[0] = 0x00;
      return p;
    });
    const run = analyse((p, i) => {
      if (i >= 2000 && i < 2005) p[0] = 0x00;
      return p;
    });
    expect(one.syncByte).toBe(1);
    expect(one.syncLoss).toBe(0);
    expect(run.syncByte).toBeGreaterThanOrEqual(2);
    expect(run.syncLoss).toBe(1);
  });

  it('misses the PAT when it is withheld, and counts damaged packets and tables', () => {
    const noPat = analyse((p, i) => (pidOf(i) === 0 && i > packets / 2 ? null : p));
    let pats = 0;
    const badCrc = analyse((p, i) => {
      if (pidOf(i) === 0 && ++pats === 3) p[10] ^= 0x01; // the PAT's version byte
      return p;
    });
    const tei = analyse((p, i) => {
      if (i === 500) p[1] |= 0x80;
      return p;
    });
    expect(noPat.pat).toBeGreaterThanOrEqual(5);
    expect(badCrc.crc).toBe(1);
    expect(tei.tei).toBe(1);
  });

  it('misses the PTS of a stream that stops carrying them (2.5: every 700 ms)', () => {
    const errors = analyse((p, i) => {
      // Past the middle, video PES headers say "no PTS" (PTS_DTS_flags 00).
      const start = (p[1] & 0x40) !== 0;
      const payload = p[3] & 0x20 ? 5 + p[4] : 4;
      if (i > packets / 2 && pidOf(i) === videoPid && start && p[payload + 2] === 1) p[payload + 7] &= 0x3f;
      return p;
    });
    // About 5 s without a video PTS: one error every 700 ms.
    expect(errors.pts).toBeGreaterThanOrEqual(5);
    expect(errors.pts).toBeLessThanOrEqual(8);
    expect(errors.continuity + errors.pat + errors.pmt + errors.pcr).toBe(0);
  });

  it("judges a segment downloaded at once on the stream's own PCR clock", () => {
    const whole = (edit: (p: Buffer, i: number) => Buffer | null) => {
      const analyzer = new TsAnalyzer({ clock: 'pcr' });
      const kept: Buffer[] = [];
      for (let i = 0; i < packets; i++) {
        const p = edit(Buffer.from(clip.subarray(i * PACKET, (i + 1) * PACKET)), i);
        if (p) kept.push(p);
      }
      analyzer.push(Buffer.concat(kept));
      return analyzer.take();
    };
    expect(nothingWrong(whole((p) => p))).toBe(true);
    const noPat = whole((p, i) => (pidOf(i) === 0 && i > packets / 2 ? null : p));
    // About 5 s of stream time without a PAT: one error every 0.5 s, as if it had arrived live.
    expect(noPat.pat).toBeGreaterThanOrEqual(8);
    expect(noPat.pat).toBeLessThanOrEqual(11);
  });
});

describe('MPEG-TS in RTP (RFC 3550, RFC 2250)', () => {
  const ts = Buffer.from(clip.subarray(0, 7 * PACKET));
  it('takes the header off, with its CSRCs, extension and padding', () => {
    const plain = Buffer.concat([Buffer.from([0x80, 33, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]), ts]);
    expect(rtpPayload(plain)?.equals(ts)).toBe(true);
    // Two CSRCs, a one-word extension, four bytes of padding.
    const header = Buffer.from([
      0xb2, 33, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 7, 0, 0, 0, 8, 0xbe, 0xde, 0, 1, 1, 2, 3, 4,
    ]);
    const padded = Buffer.concat([header, ts, Buffer.from([0, 0, 0, 4])]);
    expect(rtpPayload(padded)?.equals(ts)).toBe(true);
  });

  it('passes plain TS through and refuses what is neither', () => {
    expect(rtpPayload(ts)).toBe(ts);
    expect(rtpPayload(Buffer.from('GET / HTTP/1.1\r\n'))).toBeNull();
    expect(rtpPayload(Buffer.from([0x80, 33, 0, 1]))).toBeNull();
  });
});

describe('TS segments of HLS', () => {
  it("are judged per segment: FFmpeg's HLS muxer writes PAT and PMT once, at each segment's start", () => {
    const dir = mkdtempSync(join(tmpdir(), 'streamqc-segments-'));
    execFileSync('ffmpeg', [
      ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25:duration=8'],
      ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=8'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '50', '-c:a', 'aac'],
      ...['-f', 'hls', '-hls_time', '2', '-hls_list_size', '0', join(dir, 'v.m3u8')],
    ]);
    const run = (tableIntervalSeconds: number) => {
      const analyzer = new TsAnalyzer({ clock: 'pcr', tableIntervalSeconds });
      for (let i = 0; i < 4; i++) analyzer.push(readFileSync(join(dir, `v${i}.ts`)));
      return analyzer.take();
    };
    const perSegment = run(2.5);
    expect(nothingWrong(perSegment)).toBe(true);
    // The broadcast rule (every 0.5 s) would call every segment faulty.
    expect(run(0.5).pat).toBeGreaterThanOrEqual(8);
  });
  it('of sound only carry a PCR where an audio PES starts: not a repetition error there', () => {
    const dir = mkdtempSync(join(tmpdir(), 'streamqc-sound-segments-'));
    execFileSync('ffmpeg', [
      ...['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=8'],
      ...['-c:a', 'aac', '-f', 'hls', '-hls_time', '2', '-hls_list_size', '0', join(dir, 'a.m3u8')],
    ]);
    const run = (pcrRepetition: boolean) => {
      const analyzer = new TsAnalyzer({ clock: 'pcr', tableIntervalSeconds: 2.5, pcrRepetition });
      for (let i = 0; i < 4; i++) analyzer.push(readFileSync(join(dir, `a${i}.ts`)));
      return analyzer.take();
    };
    // FFmpeg's PCRs on sound alone are a few tenths of a second apart: the broadcast rule fires.
    expect(run(true).pcr).toBeGreaterThan(4);
    expect(run(false)).toEqual(new TsAnalyzer().take());
  });
});

describe('where a TS segment starts (earliestPts)', () => {
  /** The start time ffprobe gives for TS bytes (the earliest timestamp of any stream). */
  const probedStart = (bytes: Buffer): number => {
    const file = join(mkdtempSync(join(tmpdir(), 'streamqc-pts-')), 'segment.ts');
    writeFileSync(file, bytes);
    const args = ['-v', 'quiet', '-show_entries', 'format=start_time', '-of', 'csv=p=0', file];
    return Number(execFileSync('ffprobe', args).toString().trim());
  };

  it('reads the earliest PTS, as ffprobe does, from the start of a stream and from a cut in its middle', () => {
    const tail = clip.subarray(PACKET * Math.floor(packets / 2));
    for (const bytes of [clip, tail]) expect(earliestPts(bytes)).toBeCloseTo(probedStart(bytes), 3);
    expect(earliestPts(tail)).toBeGreaterThan((earliestPts(clip) as number) + 3);
  });

  it('says nothing of bytes that are not TS, or whose payloads are scrambled', () => {
    expect(earliestPts(Buffer.from('\u0000\u0000\u0000\u0018ftypisom'.padEnd(400, '\u0000')))).toBeNull();
    const scrambled = Buffer.from(clip.subarray(0, PACKET * 400));
    for (let o = 0; o < scrambled.length; o += PACKET) scrambled[o + 3] |= 0x80;
    expect(earliestPts(scrambled)).toBeNull();
  });
});
