/**
 * SCTE 35 cues (worker/transport/scte35.ts): the sample messages of ANSI/SCTE 35 §14 decode to
 * their documented fields, and a cue that is damaged, cut short or encrypted is refused with why.
 */
import { describe, expect, it } from 'vitest';
import { crc32 } from '../../../worker/transport/psi.js';
import { decodeCueText, parseSpliceInfo, ScteError } from '../../../worker/transport/scte35.js';
import { TsAnalyzer } from '../../../worker/transport/TsAnalyzer.js';

const SAMPLES = {
  // 14.1 time_signal, Placement Opportunity Start.
  ppoStart: '/DA0AAAAAAAA///wBQb+cr0AUAAeAhxDVUVJSAAAjn/PAAGlmbAICAAAAAAsoKGKNAIAmsnRfg==',
  // 14.2 splice_insert.
  insert: '/DAvAAAAAAAA///wFAVIAACPf+/+c2nALv4AUsz1AAAAAAAKAAhDVUVJAAABNWLbowo=',
  // 14.3 time_signal, Placement Opportunity End.
  ppoEnd: '/DAvAAAAAAAA///wBQb+dGKQoAAZAhdDVUVJSAAAjn+fCAgAAAAALKChijUCAKnMZ1g=',
  // 14.4 time_signal, Program End and Program Start.
  programStartEnd:
    '/DBIAAAAAAAA///wBQb+ek2ItgAyAhdDVUVJSAAAGH+fCAgAAAAALMvDRBEAAAIXQ1VFSUgAABl/nwgIAAAAACyk26AQAACZcuND',
  // 14.5 time_signal, Program Overlap Start.
  overlapStart: '/DAvAAAAAAAA///wBQb+rr//ZAAZAhdDVUVJSAAACH+fCAgAAAAALKVs9RcAAJUdsKg=',
  // 14.6 time_signal, Program Blackout Override and Program End.
  blackoutOverride:
    '/DBIAAAAAAAA///wBQb+ky44CwAyAhdDVUVJSAAACn+fCAgAAAAALKCh4xgAAAIXQ1VFSUgAAAl/nwgIAAAAACygoYoRAAC0IX6w',
  // 14.7 time_signal, Program End.
  programEnd: '/DAvAAAAAAAA///wBQb+rvF8TAAZAhdDVUVJSAAAB3+fCAgAAAAALKVslxEAAMSHai4=',
};

const decode = (text: string) => parseSpliceInfo(decodeCueText(text));
const ticks = (pts: number) => pts / 90_000;

describe('the sample cues of SCTE 35 §14', () => {
  it('14.1: a time_signal with a Placement Opportunity Start of 307 s', () => {
    const cue = decode(SAMPLES.ppoStart);
    expect(cue.command).toBe('time_signal');
    expect(cue.spliceTime).toBeCloseTo(ticks(0x072bd0050), 6);
    expect(cue.segmentation).toEqual([
      {
        eventId: 0x4800008e,
        cancelled: false,
        typeId: 0x34,
        duration: ticks(0x0001a599b0),
        upidType: 0x08,
        upid: '000000002ca0a18a',
        segmentNum: 2,
        segmentsExpected: 0,
      },
    ]);
    expect(cue.segmentation[0].duration).toBe(307);
  });

  it('14.2: a splice_insert out of network with a 60.29 s break that returns by itself', () => {
    const cue = decode(SAMPLES.insert);
    expect(cue.command).toBe('splice_insert');
    expect(cue.spliceTime).toBeCloseTo(ticks(0x07369c02e), 6);
    expect(cue.insert).toEqual({
      eventId: 0x4800008f,
      cancelled: false,
      outOfNetwork: true,
      immediate: false,
      autoReturn: true,
      duration: ticks(0x00052ccf5),
      uniqueProgramId: 0,
      availNum: 0,
      availsExpected: 0,
    });
  });

  it('14.3 to 14.7: the segmentation types of each time_signal', () => {
    const types = (text: string) => decode(text).segmentation.map((d) => [d.eventId, d.typeId]);
    expect(types(SAMPLES.ppoEnd)).toEqual([[0x4800008e, 0x35]]);
    expect(types(SAMPLES.programStartEnd)).toEqual([
      [0x48000018, 0x11],
      [0x48000019, 0x10],
    ]);
    expect(types(SAMPLES.overlapStart)).toEqual([[0x48000008, 0x17]]);
    expect(types(SAMPLES.blackoutOverride)).toEqual([
      [0x4800000a, 0x18],
      [0x48000009, 0x11],
    ]);
    expect(types(SAMPLES.programEnd)).toEqual([[0x48000007, 0x11]]);
    expect(decode(SAMPLES.programEnd).spliceTime).toBeCloseTo(ticks(0x0aef17c4c), 6);
  });

  it('reads hex as well as base64', () => {
    const hex = `0x${Buffer.from(SAMPLES.ppoStart, 'base64').toString('hex').toUpperCase()}`;
    expect(decode(hex)).toEqual(decode(SAMPLES.ppoStart));
  });
});

describe('malformed cues', () => {
  const bytes = () => Uint8Array.from(Buffer.from(SAMPLES.insert, 'base64'));
  /** Sets the CRC right again after an edit. */
  const resign = (b: Uint8Array) => {
    const crc = crc32(b, 0, b.length - 4);
    new DataView(b.buffer, b.byteOffset).setUint32(b.length - 4, crc);
    return b;
  };
  const reason = (b: Uint8Array) => {
    try {
      parseSpliceInfo(b);
      return 'decoded';
    } catch (e) {
      return e instanceof ScteError ? e.reason : String(e);
    }
  };

  it('refuses a wrong CRC, a section cut short, an encrypted one and what is not a cue', () => {
    const damaged = bytes();
    damaged[20] ^= 0x01;
    expect(reason(damaged)).toBe('crc');
    expect(reason(bytes().subarray(0, 30))).toBe('truncated');
    const encrypted = bytes();
    encrypted[4] |= 0x80;
    expect(reason(resign(encrypted))).toBe('encrypted');
    expect(reason(Uint8Array.from([0x00, 0xb0, 0x0d, 1, 2, 3]))).toBe('not_scte35');
    expect(() => decodeCueText('not a cue!')).toThrow(ScteError);
  });

  it('refuses a descriptor loop longer than its section, CRC right or not', () => {
    const b = bytes();
    // descriptor_loop_length (after the 20-byte splice_insert command) claims more than is there.
    const loopAt = 14 + 20;
    b[loopAt] = 0x00;
    b[loopAt + 1] = 0x40;
    expect(reason(resign(b))).toBe('truncated');
  });
});

describe('cues in a transport stream', () => {
  /** One 188-byte packet of `pid` starting a section (pointer field 0), stuffed with 0xFF. */
  const packet = (pid: number, section: Uint8Array, cc = 0) => {
    const p = new Uint8Array(188).fill(0xff);
    p.set([0x47, 0x40 | (pid >> 8), pid & 0xff, 0x10 | cc, 0x00], 0);
    p.set(section, 5);
    return p;
  };
  /** A PSI section with its CRC: `body` from table_id, section_length filled in. */
  const section = (body: number[]) => {
    const b = Uint8Array.from([...body, 0, 0, 0, 0]);
    const length = b.length - 3;
    b[1] = 0xb0 | (length >> 8);
    b[2] = length & 0xff;
    new DataView(b.buffer).setUint32(b.length - 4, crc32(b, 0, b.length - 4));
    return b;
  };
  // PAT: program 1 → PMT on 0x100. PMT: PCR on 0x101; H.264 on 0x101; SCTE-35 cues on 0x1F0.
  const pat = section([0x00, 0, 0, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01, 0xe1, 0x00]);
  const pmt = section([
    0x02, 0, 0, 0x00, 0x01, 0xc1, 0x00, 0x00, 0xe1, 0x01, 0xf0, 0x00, 0x1b, 0xe1, 0x01, 0xf0, 0x00, 0x86,
    0xe1, 0xf0, 0xf0, 0x00,
  ]);

  it('finds the cue PID from the PMT (stream type 0x86), decodes its cues, and does not time it out', () => {
    const analyzer = new TsAnalyzer();
    const insert = Uint8Array.from(Buffer.from(SAMPLES.insert, 'base64'));
    const damaged = Uint8Array.from(insert);
    damaged[20] ^= 1;
    analyzer.push(Buffer.concat([packet(0, pat), packet(0x100, pmt)]), 0);
    analyzer.push(packet(0x1f0, insert, 0), 100);
    analyzer.push(packet(0x1f0, damaged, 1), 200);
    expect(analyzer.tables.cuePids).toEqual([0x1f0]);
    expect(analyzer.tables.esPids).toEqual([0x101]);
    const cues = analyzer.takeCues();
    expect(cues.map((c) => [c.atMs, c.cue?.command ?? c.error])).toEqual([
      [100, 'splice_insert'],
      [200, 'crc'],
    ]);
    expect(cues[0].cue?.insert?.outOfNetwork).toBe(true);
    expect(analyzer.takeCues()).toEqual([]);
    // 20 s without a cue is no PID error: as many as for a PMT without the cue PID (the silent
    // video PID's own).
    const withoutCues = section([
      0x02, 0, 0, 0x00, 0x01, 0xc1, 0x00, 0x00, 0xe1, 0x01, 0xf0, 0x00, 0x1b, 0xe1, 0x01, 0xf0, 0x00,
    ]);
    const pidErrors = (table: Uint8Array) => {
      const a = new TsAnalyzer();
      for (let t = 0; t <= 20_000; t += 500) {
        a.push(Buffer.concat([packet(0, pat), packet(0x100, table)]), t);
        a.check(t);
      }
      return a.take().pid;
    };
    expect(pidErrors(withoutCues)).toBeGreaterThan(0);
    expect(pidErrors(pmt)).toBe(pidErrors(withoutCues));
  });
});
