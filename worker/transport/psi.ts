/**
 * Program-specific information of an MPEG-TS (ISO/IEC 13818-1 §2.4.4): putting sections together
 * from the packets that carry them, the MPEG-2 CRC-32, and reading the PAT and PMT.
 */

/** A section is at most 1024 bytes: section_length is capped at 1021 (§2.4.4.3). */
const MAX_SECTION = 1024;
/** Bytes in a transport stream packet. */
const TS_PACKET = 188;

/**
 * Puts PSI sections together per PID: a section may span several packets (a PAT of hundreds of
 * programs, a PMT of many streams), so its bytes are gathered until section_length is reached.
 */
export class SectionAssembler {
  private readonly partial = new Map<number, { bytes: Uint8Array; have: number }>();

  /**
   * One packet's payload b[from, end) on `pid`; `start`: payload_unit_start_indicator. Calls
   * `whole` with each section completed, `oversize` when one announces more than 1024 bytes.
   */
  push(
    pid: number,
    b: Uint8Array,
    from: number,
    end: number,
    start: boolean,
    whole: (section: Uint8Array) => void,
    oversize: () => void,
  ): void {
    if (!start) {
      this.gather(pid, b.subarray(from, end), whole, oversize);
      return;
    }
    const pointer = b[from];
    const s = from + 1 + pointer;
    // Bytes before the pointer's target end the section already begun.
    if (pointer > 0) this.gather(pid, b.subarray(from + 1, Math.min(s, end)), whole, oversize);
    this.partial.set(pid, { bytes: new Uint8Array(MAX_SECTION), have: 0 });
    if (s < end) this.gather(pid, b.subarray(s, end), whole, oversize);
  }

  private gather(
    pid: number,
    bytes: Uint8Array,
    whole: (section: Uint8Array) => void,
    oversize: () => void,
  ): void {
    const part = this.partial.get(pid);
    if (!part) return;
    const room = part.bytes.length - part.have;
    part.bytes.set(bytes.subarray(0, room), part.have);
    part.have += Math.min(room, bytes.length);
    if (part.have < 3) return;
    if (part.bytes[0] === 0xff) {
      // Stuffing after the last section: nothing more in this run.
      this.partial.delete(pid);
      return;
    }
    const need = 3 + (((part.bytes[1] & 0x0f) << 8) | part.bytes[2]);
    if (need > part.bytes.length) {
      this.partial.delete(pid);
      oversize();
      return;
    }
    if (part.have < need) return;
    this.partial.delete(pid);
    whole(part.bytes.subarray(0, need));
  }
}

/** The PMT PIDs a PAT section names (program 0, the network PID, left out). */
export function readPat(section: Uint8Array): number[] {
  const pids: number[] = [];
  // Program loop: program_number (2), PID (2), from byte 8 to the CRC.
  for (let i = 8; i + 4 <= section.length - 4; i += 4) {
    const program = (section[i] << 8) | section[i + 1];
    if (program !== 0) pids.push(((section[i + 2] & 0x1f) << 8) | section[i + 3]);
  }
  return pids;
}

/** A PMT section's PCR PID and its elementary streams (PID and stream_type, e.g. 0x86 SCTE-35). */
export function readPmt(section: Uint8Array): { pcrPid: number; streams: { pid: number; type: number }[] } {
  const pcrPid = ((section[8] & 0x1f) << 8) | section[9];
  const infoLength = ((section[10] & 0x0f) << 8) | section[11];
  const streams: { pid: number; type: number }[] = [];
  for (let i = 12 + infoLength; i + 5 <= section.length - 4; ) {
    const esInfo = ((section[i + 3] & 0x0f) << 8) | section[i + 4];
    streams.push({ pid: ((section[i + 1] & 0x1f) << 8) | section[i + 2], type: section[i] });
    i += 5 + esInfo;
  }
  return { pcrPid, streams };
}

/**
 * A PES header of audio, video or private stream 1 (start code 00 00 01, stream id 0xBD or
 * 0xC0–0xEF: the ones with an optional header) whose PTS_DTS_flags say a PTS follows.
 */
export function hasPts(b: Uint8Array, at: number): boolean {
  if (b[at] !== 0 || b[at + 1] !== 0 || b[at + 2] !== 1) return false;
  const id = b[at + 3];
  if (id !== 0xbd && (id < 0xc0 || id > 0xef)) return false;
  return (b[at + 7] & 0x80) !== 0;
}

/**
 * The earliest PTS (seconds, as the 33-bit field says it) among the PES headers in the first
 * `maxPackets` packets of TS bytes — a segment's start on the source's timeline; null when none
 * carries one (not TS, scrambled, an fMP4 segment).
 */
export function earliestPts(b: Uint8Array, maxPackets = 512): number | null {
  let earliest: number | null = null;
  for (let o = 0, n = 0; o + TS_PACKET <= b.length && n < maxPackets; o += TS_PACKET, n++) {
    if (b[o] !== 0x47) break;
    // payload_unit_start_indicator, not scrambled, with a payload.
    if (!(b[o + 1] & 0x40) || b[o + 3] & 0xc0 || !(b[o + 3] & 0x10)) continue;
    const payload = b[o + 3] & 0x20 ? o + 5 + b[o + 4] : o + 4;
    if (payload + 14 > o + TS_PACKET || !hasPts(b, payload)) continue;
    const p = payload + 9;
    const pts =
      ((b[p] >> 1) & 7) * 2 ** 30 +
      b[p + 1] * 2 ** 22 +
      (b[p + 2] >> 1) * 2 ** 15 +
      b[p + 3] * 2 ** 7 +
      (b[p + 4] >> 1);
    const seconds = pts / 90_000;
    if (earliest === null || seconds < earliest) earliest = seconds;
  }
  return earliest;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    table[i] = c >>> 0;
  }
  return table;
})();

/** MPEG-2 CRC-32 over [from, to); 0 when the range ends with its own correct CRC. */
export function crc32(b: Uint8Array, from: number, to: number): number {
  let crc = 0xffffffff;
  for (let i = from; i < to; i++) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ b[i]) & 0xff]) >>> 0;
  return crc >>> 0;
}
