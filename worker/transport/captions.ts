/**
 * Closed captions in a transport stream's video: ATSC A/53 `cc_data` (CEA-608 byte pairs and
 * CEA-708 DTVCC packets) carried in H.264 and HEVC SEI messages (user_data_registered_itu_t_t35,
 * provider 0x0031, 'GA94') and in MPEG-2 picture user data ('GA94'). Read straight from the video
 * PID's packets, every picture (the decoder's reference profile skips pictures, and their captions
 * with them).
 *
 * Two things are kept: which caption carriages arrive (608 field 1, 608 field 2, 708: valid
 * cc_data of that kind, padding included — an inserter that fails stops them all), and which
 * services have carried something (CC1–CC4 by their control codes, 708 services by their blocks).
 */

export type Carriage = '608-field1' | '608-field2' | '708';
export type VideoCodec = 'h264' | 'hevc' | 'mpeg2';

/** PMT stream types of the video codecs captions are read from. */
export const CAPTION_STREAM_TYPES: Record<number, VideoCodec> = { 27: 'h264', 36: 'hevc', 2: 'mpeg2' };

/** Longest NAL unit or user data kept while looking for its end, bytes (SEI are small). */
const MAX_UNIT = 4096;
const GA94 = [0x47, 0x41, 0x39, 0x34];

export class CaptionScanner {
  /** Carriages seen since the last take(). */
  private carriages = new Set<Carriage>();
  /** Services ever seen carrying something: CC1–CC4, 708-1 … */
  readonly services = new Set<string>();
  /** Bytes carried from the previous piece (up to two, which may begin a start code), then the piece. */
  private scratch = new Uint8Array(512);
  private tail = 0;
  /** The unit being collected (an SEI NAL unit or MPEG-2 user data), without its start code. */
  private unit: number[] | null = null;
  /** Bytes of the next unit's header still to come (HEVC NAL headers are two bytes). */
  private awaitingHeader = false;
  /** 608: the channel (1 or 2) each field's bytes go to, by its last control code. */
  private readonly channel608 = [1, 1];
  /** 708: the DTVCC packet being put together. */
  private dtvcc: number[] = [];
  private dtvccSize = 0;

  constructor(private readonly codec: VideoCodec) {}

  /**
   * Elementary stream bytes of the video PID, in order (PES headers already skipped). Start codes
   * are found by looking at every third byte (startCode): only the few bytes of SEI and user data
   * are looked at one by one.
   */
  push(bytes: Uint8Array, from: number, to: number): void {
    if (this.skipPlain(bytes, from, to)) return;
    // The last two bytes of the previous piece may begin a start code: scan them again.
    const length = this.tail + to - from;
    if (this.scratch.length < length) {
      const bigger = new Uint8Array(length * 2);
      bigger.set(this.scratch.subarray(0, this.tail));
      this.scratch = bigger;
    }
    const chunk = this.scratch;
    chunk.set(bytes.subarray(from, to), this.tail);
    let scan = 0;
    if (this.awaitingHeader && length > 0) {
      this.awaitingHeader = false;
      this.startUnit(chunk[0]);
      scan = 1;
    }
    for (;;) {
      const at = startCode(chunk, scan, length);
      if (at < 0) break;
      this.collect(chunk, scan, at);
      if (this.unit) this.finishUnit(this.unit);
      this.unit = null;
      if (at + 3 >= length) {
        this.awaitingHeader = true;
        scan = length;
        break;
      }
      this.startUnit(chunk[at + 3]);
      scan = at + 4;
    }
    const keep = this.awaitingHeader ? 0 : Math.min(2, length - scan);
    this.collect(chunk, scan, length - keep);
    chunk.copyWithin(0, length - keep, length);
    this.tail = keep;
  }

  /**
   * Most pieces are the middle of a picture's slices: no unit being collected and no start code
   * in them. Such a piece is looked at where it lies (push copies it after the bytes carried
   * over): true when it was one; then only its last two bytes are kept, as push would.
   */
  private skipPlain(bytes: Uint8Array, from: number, to: number): boolean {
    if (this.unit || this.awaitingHeader || to - from < 2) return false;
    const t = this.scratch;
    const p0 = bytes[from];
    const p1 = bytes[from + 1];
    // A start code beginning in the bytes carried over ends in this piece's first two.
    if (this.tail === 2 && ((t[0] === 0 && t[1] === 0 && p0 === 1) || (t[1] === 0 && p0 === 0 && p1 === 1)))
      return false;
    if (this.tail === 1 && t[0] === 0 && p0 === 0 && p1 === 1) return false;
    if (startCode(bytes, from, to) >= 0) return false;
    t[0] = bytes[to - 2];
    t[1] = bytes[to - 1];
    this.tail = 2;
    return true;
  }

  /**
   * Between units, with the last two bytes of the previous piece kept: those two bytes as
   * `(first << 8) | second`, so that a scan elsewhere (PacketScan) can pass over plain pieces as
   * skipPlain would; −1 otherwise (the pieces must come here).
   */
  plainTail(): number {
    if (this.unit || this.awaitingHeader || this.tail !== 2) return -1;
    return (this.scratch[0] << 8) | this.scratch[1];
  }

  /** Takes back the two bytes a scan elsewhere kept since plainTail() (what skipPlain would keep). */
  resumePlain(tail: number): void {
    this.scratch[0] = tail >> 8;
    this.scratch[1] = tail & 0xff;
    this.tail = 2;
  }

  /** Bytes of the unit being collected (an SEI or user data: small), if one is. */
  private collect(chunk: Uint8Array, from: number, to: number): void {
    const unit = this.unit;
    if (!unit) return;
    for (let i = from; i < to && unit.length < MAX_UNIT; i++) unit.push(chunk[i]);
  }

  /** A new PES packet starts: a unit cut by it ends here. */
  pesStart(): void {
    if (this.unit) {
      this.collect(this.scratch, 0, this.tail);
      this.finishUnit(this.unit);
    }
    this.unit = null;
    this.tail = 0;
    this.awaitingHeader = false;
  }

  /** Caption carriages seen since the last call. */
  take(): Carriage[] {
    const seen = [...this.carriages];
    this.carriages.clear();
    return seen;
  }

  private startUnit(header: number): void {
    if (this.codec === 'h264' && (header & 0x1f) === 6) this.unit = [];
    else if (this.codec === 'hevc' && ((header >> 1) & 0x3f) >= 39 && ((header >> 1) & 0x3f) <= 40)
      this.unit = [-1]; // the second header byte comes first: dropped when read
    else if (this.codec === 'mpeg2' && header === 0xb2) this.unit = [];
  }

  private finishUnit(raw: number[]): void {
    const unit = raw[0] === -1 ? raw.slice(2) : raw;
    if (this.codec === 'mpeg2') {
      if (startsWith(unit, 0, GA94) && unit[4] === 0x03) this.ccData(unit, 5);
      return;
    }
    this.sei(rbspOf(unit));
  }

  /** SEI messages: user_data_registered_itu_t_t35 (4) with ATSC's GA94 cc_data. */
  private sei(rbsp: number[]): void {
    let i = 0;
    while (i < rbsp.length && rbsp[i] !== 0x80) {
      let type = 0;
      while (rbsp[i] === 0xff) type += rbsp[i++];
      type += rbsp[i++] ?? 0;
      let size = 0;
      while (rbsp[i] === 0xff) size += rbsp[i++];
      size += rbsp[i++] ?? 0;
      const end = i + size;
      if (end > rbsp.length) return;
      if (type === 4 && rbsp[i] === 0xb5 && rbsp[i + 1] === 0x00 && rbsp[i + 2] === 0x31) {
        if (startsWith(rbsp, i + 3, GA94) && rbsp[i + 7] === 0x03) this.ccData(rbsp, i + 8);
      }
      i = end;
    }
  }

  /** ATSC A/53 cc_data() at `at`: flags and count, em_data, then cc_count triplets. */
  private ccData(d: number[], at: number): void {
    if (at + 2 > d.length || !(d[at] & 0x40)) return;
    const count = d[at] & 0x1f;
    for (let k = 0; k < count; k++) {
      const o = at + 2 + 3 * k;
      if (o + 3 > d.length) return;
      const valid = (d[o] & 0x04) !== 0;
      const type = d[o] & 0x03;
      if (!valid) continue;
      if (type <= 1) this.cea608(type, d[o + 1], d[o + 2]);
      else this.cea708(type, d[o + 1], d[o + 2]);
    }
  }

  private cea608(field: number, a: number, b: number): void {
    this.carriages.add(field === 0 ? '608-field1' : '608-field2');
    const c1 = a & 0x7f;
    const c2 = b & 0x7f;
    if (c1 === 0 && c2 === 0) return; // padding
    if (c1 >= 0x10 && c1 <= 0x1f) this.channel608[field] = c1 & 0x08 ? 2 : 1;
    else if (c1 < 0x20) return;
    this.services.add(`CC${field * 2 + this.channel608[field]}`);
  }

  private cea708(type: number, a: number, b: number): void {
    this.carriages.add('708');
    if (type === 3) {
      // DTVCC packet start: sequence (2 bits), size code (6 bits): 2 × code bytes, 0 meaning 128.
      this.dtvcc = [a];
      const code = a & 0x3f;
      this.dtvccSize = code === 0 ? 128 : code * 2;
      this.dtvcc.push(b);
    } else if (this.dtvcc.length) this.dtvcc.push(a, b);
    if (this.dtvcc.length && this.dtvcc.length >= this.dtvccSize) {
      this.serviceBlocks(this.dtvcc.slice(1, this.dtvccSize));
      this.dtvcc = [];
    }
  }

  /** A DTVCC packet's service blocks: service number (3 bits, 7: extended) and block size (5). */
  private serviceBlocks(p: number[]): void {
    let i = 0;
    while (i < p.length) {
      let service = p[i] >> 5;
      const size = p[i] & 0x1f;
      i++;
      if (service === 7 && i < p.length) service = p[i++] & 0x3f;
      if (service === 0 || size === 0) return;
      this.services.add(`708-${service}`);
      i += size;
    }
  }
}

/**
 * Where the first start code (00 00 01) in c[from, end) begins, or −1. A byte above 1 cannot be
 * any of the start code's three bytes ending there or in the next two: skip three (the way
 * FFmpeg's start code search runs).
 */
function startCode(c: Uint8Array, from: number, end: number): number {
  let i = from + 2;
  while (i < end) {
    const b = c[i];
    if (b > 1) i += 3;
    else if (b === 0) i++;
    else if (c[i - 1] === 0 && c[i - 2] === 0) return i - 2;
    else i += 3;
  }
  return -1;
}

function startsWith(d: number[], at: number, prefix: number[]): boolean {
  return prefix.every((b, k) => d[at + k] === b);
}

/** NAL payload to RBSP: every 0x000003 loses its 0x03. */
function rbspOf(nal: number[]): number[] {
  const out: number[] = [];
  let zeros = 0;
  for (const b of nal) {
    if (zeros >= 2 && b === 0x03) {
      zeros = 0;
      continue;
    }
    out.push(b);
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out;
}
