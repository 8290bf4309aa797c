/**
 * SCTE 35 splice_info_section (ANSI/SCTE 35 §9): the cue messages that signal ad breaks and
 * programme boundaries, carried on a PID of stream_type 0x86 in MPEG-TS, as base64 or hex in HLS
 * tags (EXT-X-DATERANGE SCTE35-OUT/IN/CMD, EXT-X-SCTE35) and in DASH events. Decoded here:
 * splice_null, splice_insert, time_signal and bandwidth_reservation, with segmentation
 * descriptors; every section's CRC-32 is checked. An encrypted section, a wrong CRC or a
 * truncated one is refused with the reason (ScteError): a malformed cue is itself a finding.
 */
import { crc32 } from './psi.js';

/** 90 kHz ticks per second (PTS, durations). */
const TICKS = 90_000;

export class ScteError extends Error {
  constructor(
    readonly reason: 'crc' | 'truncated' | 'encrypted' | 'not_scte35',
    message: string,
  ) {
    super(message);
    this.name = 'ScteError';
  }
}

export interface SegmentationDescriptor {
  eventId: number;
  cancelled: boolean;
  /** segmentation_type_id (e.g. 0x22 break start, 0x23 break end, 0x30/0x34 placement opportunity start). */
  typeId: number;
  /** Seconds, when given. */
  duration?: number;
  upidType: number;
  /** The UPID's bytes as hex. */
  upid: string;
  segmentNum: number;
  segmentsExpected: number;
}

export interface SpliceInfo {
  /** 0x00 splice_null, 0x05 splice_insert, 0x06 time_signal, 0x07 bandwidth_reservation, 0xff private. */
  commandType: number;
  command: 'splice_null' | 'splice_insert' | 'time_signal' | 'bandwidth_reservation' | 'private' | 'other';
  /** pts_adjustment, seconds (already added to the times below). */
  ptsAdjustment: number;
  tier: number;
  /** When the splice happens: PTS seconds (modulo 2^33 ticks), or null for "immediate" / not given. */
  spliceTime: number | null;
  /** splice_insert only. */
  insert?: {
    eventId: number;
    cancelled: boolean;
    /** true: the cue leaves the network feed (a break starts); false: returns to it. */
    outOfNetwork: boolean;
    immediate: boolean;
    /** break_duration, seconds, and whether the return is automatic. */
    duration?: number;
    autoReturn?: boolean;
    uniqueProgramId: number;
    availNum: number;
    availsExpected: number;
  };
  segmentation: SegmentationDescriptor[];
}

/** Reads bits MSB first. */
class Bits {
  private bit = 0;
  constructor(
    private readonly b: Uint8Array,
    private at: number,
    private readonly end: number,
  ) {}

  read(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.at + (this.bit >> 3);
      if (byte >= this.end) throw new ScteError('truncated', 'splice_info_section ends early');
      v = v * 2 + ((this.b[byte] >> (7 - (this.bit & 7))) & 1);
      this.bit++;
    }
    return v;
  }

  get offset(): number {
    return this.at + (this.bit >> 3);
  }
}

const COMMANDS: Record<number, SpliceInfo['command']> = {
  0: 'splice_null',
  5: 'splice_insert',
  6: 'time_signal',
  7: 'bandwidth_reservation',
  255: 'private',
};

/** splice_time(): seconds, or null when time_specified_flag is 0. */
function spliceTime(r: Bits, adjustment: number): number | null {
  if (!r.read(1)) {
    r.read(7);
    return null;
  }
  r.read(6);
  return ((r.read(33) + adjustment) % 2 ** 33) / TICKS;
}

/** Decodes one splice_info_section (bytes from table_id 0xFC). */
export function parseSpliceInfo(section: Uint8Array): SpliceInfo {
  if (section.length < 3 || section[0] !== 0xfc)
    throw new ScteError('not_scte35', 'not a splice_info_section (table_id 0xFC)');
  const length = 3 + (((section[1] & 0x0f) << 8) | section[2]);
  if (length > section.length)
    throw new ScteError('truncated', `section of ${length} bytes, ${section.length} given`);
  if (length < 20) throw new ScteError('truncated', `section of ${length} bytes is too short`);
  if (crc32(section, 0, length) !== 0)
    throw new ScteError('crc', 'CRC-32 of the splice_info_section is wrong');
  const r = new Bits(section, 3, length - 4);
  r.read(8); // protocol_version
  if (r.read(1))
    throw new ScteError('encrypted', 'encrypted splice_info_section: cannot be read without its key');
  r.read(6); // encryption_algorithm
  const adjustmentTicks = r.read(33);
  r.read(8); // cw_index
  const tier = r.read(12);
  const commandLength = r.read(12);
  const commandType = r.read(8);
  const info: SpliceInfo = {
    commandType,
    command: COMMANDS[commandType] ?? 'other',
    ptsAdjustment: adjustmentTicks / TICKS,
    tier,
    spliceTime: null,
    segmentation: [],
  };
  const commandStart = r.offset;
  if (commandType === 0x06) info.spliceTime = spliceTime(r, adjustmentTicks);
  else if (commandType === 0x05) readInsert(r, info, adjustmentTicks);
  // Past the command (its length may be 0xFFF, "unknown", for old encoders: then it is what was read).
  const after = commandLength === 0xfff ? r.offset : commandStart + commandLength;
  const loop = new Bits(section, after, length - 4);
  const loopLength = loop.read(16);
  const end = after + 2 + loopLength;
  if (end > length - 4) throw new ScteError('truncated', 'descriptor loop runs past the section');
  for (let at = after + 2; at + 2 <= end; ) {
    const tag = section[at];
    const dlen = section[at + 1];
    if (at + 2 + dlen > end) throw new ScteError('truncated', 'a descriptor runs past its loop');
    // "CUEI": segmentation_descriptor (tag 0x02) of SCTE 35 itself.
    if (tag === 0x02 && dlen >= 9 && readUint32(section, at + 2) === 0x43554549)
      info.segmentation.push(readSegmentation(new Bits(section, at + 6, at + 2 + dlen)));
    at += 2 + dlen;
  }
  return info;
}

function readInsert(r: Bits, info: SpliceInfo, adjustment: number): void {
  const eventId = r.read(32);
  const cancelled = r.read(1) === 1;
  r.read(7);
  const insert: NonNullable<SpliceInfo['insert']> = {
    eventId,
    cancelled,
    outOfNetwork: false,
    immediate: false,
    uniqueProgramId: 0,
    availNum: 0,
    availsExpected: 0,
  };
  info.insert = insert;
  if (cancelled) return;
  insert.outOfNetwork = r.read(1) === 1;
  const programSplice = r.read(1) === 1;
  const hasDuration = r.read(1) === 1;
  insert.immediate = r.read(1) === 1;
  r.read(1); // event_id_compliance_flag (2020+), reserved before
  r.read(3);
  if (programSplice && !insert.immediate) info.spliceTime = spliceTime(r, adjustment);
  if (!programSplice) {
    const components = r.read(8);
    for (let i = 0; i < components; i++) {
      r.read(8);
      if (!insert.immediate) {
        const t = spliceTime(r, adjustment);
        info.spliceTime ??= t;
      }
    }
  }
  if (hasDuration) {
    insert.autoReturn = r.read(1) === 1;
    r.read(6);
    insert.duration = r.read(33) / TICKS;
  }
  insert.uniqueProgramId = r.read(16);
  insert.availNum = r.read(8);
  insert.availsExpected = r.read(8);
}

function readSegmentation(r: Bits): SegmentationDescriptor {
  const eventId = r.read(32);
  const cancelled = r.read(1) === 1;
  r.read(7);
  const d: SegmentationDescriptor = {
    eventId,
    cancelled,
    typeId: 0,
    upidType: 0,
    upid: '',
    segmentNum: 0,
    segmentsExpected: 0,
  };
  if (cancelled) return d;
  const programSegmentation = r.read(1) === 1;
  const hasDuration = r.read(1) === 1;
  r.read(1); // delivery_not_restricted_flag
  r.read(5); // web/regional/archive/device restrictions, or reserved when not restricted
  if (!programSegmentation) {
    const components = r.read(8);
    for (let i = 0; i < components; i++) r.read(48);
  }
  if (hasDuration) d.duration = r.read(40) / TICKS;
  d.upidType = r.read(8);
  const upidLength = r.read(8);
  const upid: string[] = [];
  for (let i = 0; i < upidLength; i++) upid.push(r.read(8).toString(16).padStart(2, '0'));
  d.upid = upid.join('');
  d.typeId = r.read(8);
  d.segmentNum = r.read(8);
  d.segmentsExpected = r.read(8);
  return d;
}

function readUint32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

/** A cue as HLS and DASH carry it: base64 (`/DA…`) or hex (`0xFC…`). */
export function decodeCueText(text: string): Uint8Array {
  const t = text.trim();
  if (/^0x[0-9a-f]+$/i.test(t)) return Uint8Array.from(Buffer.from(t.slice(2), 'hex'));
  if (/^[A-Za-z0-9+/=_-]+$/.test(t)) return Uint8Array.from(Buffer.from(t, 'base64'));
  throw new ScteError('not_scte35', 'a cue is base64 or 0x-prefixed hex');
}

/** segmentation_type_id of break starts and ends (SCTE 35 table 22): breaks, ads, placement opportunities. */
export const SEGMENT_STARTS: ReadonlySet<number> = new Set([0x22, 0x30, 0x32, 0x34, 0x36]);
export const SEGMENT_ENDS: ReadonlySet<number> = new Set([0x23, 0x31, 0x33, 0x35, 0x37]);

/** What a cue says of ad breaks: one starts (with its planned duration) or ends; null: neither. */
export function breakSignalOf(
  info: SpliceInfo,
): { kind: 'out' | 'in'; duration?: number; eventId: number; autoReturn?: boolean } | null {
  const insert = info.insert;
  if (info.command === 'splice_insert' && insert && !insert.cancelled)
    return insert.outOfNetwork
      ? { kind: 'out', duration: insert.duration, eventId: insert.eventId, autoReturn: insert.autoReturn }
      : { kind: 'in', eventId: insert.eventId };
  for (const d of info.command === 'time_signal' ? info.segmentation : []) {
    if (d.cancelled) continue;
    if (SEGMENT_STARTS.has(d.typeId)) return { kind: 'out', duration: d.duration, eventId: d.eventId };
    if (SEGMENT_ENDS.has(d.typeId)) return { kind: 'in', eventId: d.eventId };
  }
  return null;
}
