/**
 * MPEG transport stream checks of ETSI TR 101 290, read from the bytes as they arrive: priority 1
 * (1.1 sync loss, 1.2 sync byte, 1.3 PAT, 1.4 continuity count, 1.5 PMT, 1.6 PID) and the
 * priority-2 checks that matter for monitoring (2.1 transport error indicator, 2.2 CRC of PAT/PMT,
 * 2.3 PCR repetition and undeclared discontinuity, 2.5 PTS repetition). Errors are counted per
 * check until `take()`. Times are the arrival times (ms) given with each chunk of a live stream,
 * or (`clock: 'pcr'`, downloaded segments, which arrive all at once) the stream's own PCR clock.
 * PAT/PMT sections are put together and read by psi.ts; SCTE-35 cues are kept by cueLog.ts.
 */

import { CAPTION_STREAM_TYPES, CaptionScanner, type Carriage } from './captions.js';
import { CueLog, type CueReport, SCTE35_STREAM_TYPE } from './cueLog.js';
import { PacketScan, ScanClass, WINDOW } from './PacketScan.js';
import { PcrAccuracy, type PcrFigures } from './pcrAccuracy.js';
import { crc32, hasPts, readPat, readPmt, SectionAssembler } from './psi.js';

export { crc32 } from './psi.js';
export const PACKET = 188;
const SYNC = 0x47;
const NULL_PID = 0x1fff;
/** PIDs are 13 bits: per-PID state lives in arrays indexed by PID, not in maps. */
const PIDS = 0x2000;
/** lastCcFlags bits: the last packet repeated the one before; it carried a payload. */
const REPEATED = 1;
const PAYLOAD = 2;

interface PidStats {
  errors: number;
  missing: number;
  duplicates: number;
}
/** TR 101 290 1.3/1.5: PAT and every PMT at least every 0.5 s. */
const TABLE_INTERVAL_MS = 500;
/** TR 101 290 2.3: PCRs at most 100 ms apart, in PCR time. */
const PCR_INTERVAL = 0.1;
/** TR 101 290 2.5: a PTS on every elementary stream that has them at least every 700 ms. */
const PTS_INTERVAL_MS = 700;
/** 27 MHz PCR ticks wrap at 2^33 × 300. */
const PCR_WRAP = 2 ** 33 * 300;

export interface TransportErrors {
  /** 1.1: sync lost (two or more consecutive packets without a sync byte). */
  syncLoss: number;
  /** 1.2: packets whose first byte is not 0x47. */
  syncByte: number;
  /** 1.3: PAT missing for 0.5 s, wrong table id on PID 0, or scrambled. */
  pat: number;
  /** 1.4: continuity counter errors (lost, out of order or repeated more than once). */
  continuity: number;
  /** 1.5: a PMT named in the PAT missing for 0.5 s, or scrambled. */
  pmt: number;
  /** 1.6: a PID named in a PMT not seen for pidTimeout. */
  pid: number;
  /** 2.1: packets with transport_error_indicator set. */
  tei: number;
  /** 2.2: PAT/PMT sections whose CRC-32 is wrong. */
  crc: number;
  /** 2.3: PCRs more than 100 ms apart, or jumping without the discontinuity indicator. */
  pcr: number;
  /** 2.4: PCRs more than ±500 ns off their position on a constant-rate stream (pcrAccuracy.ts). */
  pcrAccuracy: number;
  /** Of the continuity errors: packets missing by the counters' jumps (modulo 16). */
  missingPackets: number;
  /** Packets sent twice (legal once: not continuity errors). */
  duplicatePackets: number;
  /** 2.5: an elementary stream with PTS going more than 700 ms without one. */
  pts: number;
  /** 1.4 by PID ("0x0100"): the continuity errors of each. */
  continuityByPid: Record<string, number>;
  /** Closed-caption carriages seen in the video (not errors: what captions.missing judges). */
  captions: Carriage[];
  /** Caption services that have carried something so far (CC1–CC4, 708-1 …). */
  captionServices?: string[];
}

export interface TsAnalyzerOptions {
  /** TR 101 290 1.6: seconds a PID named in the PMT may be absent. */
  pidTimeoutSeconds?: number;
  /**
   * `arrival` (default): the times given to push()/check(). `pcr`: the stream's PCR, advanced by
   * each PCR step of at most a second (a jump, a splice or a step back does not advance it), the
   * time checks run at every PCR; for bytes that did not arrive in real time (segments).
   */
  clock?: 'arrival' | 'pcr';
  /**
   * Longest wait for the next PAT and PMT, seconds: 0.5 (TR 101 290 1.3/1.5, for a broadcast
   * receiver tuning in at any moment). HLS segments carry them once, at the start of each
   * segment (a player starts at a segment): there, one segment's duration.
   */
  tableIntervalSeconds?: number;
  /**
   * false: PCRs going back are still errors, but not PCRs further apart than 100 ms (TR 101 290
   * 2.3a). For HLS sound-only segments: packagers (FFmpeg among them) put a PCR only where an
   * audio PES starts, a few times a second, and no HLS player recovers its clock from it.
   */
  pcrRepetition?: boolean;
  /** false: no PCR accuracy check (2.4), e.g. for HLS segments, whose players recover no clock. */
  pcrAccuracy?: boolean;
  /**
   * true: the packets needing no reading are counted by the WebAssembly scan (PacketScan.ts)
   * instead of one by one here. For a recorded file's pass (FileTransport.ts), where it runs
   * without the JIT warm-up of this code; live feeds keep the reading here.
   */
  scan?: boolean;
}

const zero = (): TransportErrors => ({
  syncLoss: 0,
  syncByte: 0,
  pat: 0,
  continuity: 0,
  pmt: 0,
  pid: 0,
  tei: 0,
  crc: 0,
  pcr: 0,
  pcrAccuracy: 0,
  missingPackets: 0,
  duplicatePackets: 0,
  pts: 0,
  continuityByPid: {},
  captions: [],
});

/** Adds `more` to `sum` (errors of several pieces of a stream). */
export function addErrors(sum: TransportErrors, more: TransportErrors): void {
  for (const key of Object.keys(more) as (keyof TransportErrors)[]) {
    if (key === 'continuityByPid') {
      for (const [pid, n] of Object.entries(more.continuityByPid))
        sum.continuityByPid[pid] = (sum.continuityByPid[pid] ?? 0) + n;
    } else if (key === 'captions') sum.captions = [...new Set([...sum.captions, ...more.captions])];
    else if (key === 'captionServices') sum.captionServices = more.captionServices;
    else sum[key] += more[key];
  }
}

/** A PID as TR 101 290 reports and engineers write it: 0x0100. */
export const pidName = (pid: number) => `0x${pid.toString(16).padStart(4, '0')}`;

/** What a whole file's transport looked like (`streamqc analyze --transport`). */
export interface TransportReport {
  packets: number;
  /** Per PID: packets, continuity errors, packets missing, packets sent twice. */
  pids: { pid: string; packets: number; continuityErrors: number; missing: number; duplicates: number }[];
  pcr: (PcrFigures & { pid: string }) | null;
  /** Caption services that carried something: CC1–CC4, 708-1 … */
  captionServices: string[];
}

export class TsAnalyzer {
  private errors = zero();
  private readonly carry = new Uint8Array(PACKET);
  private carried = 0;
  private synced = false;
  private badSyncRun = 0;
  /** Per-PID continuity state and counts, and the scan that counts the packets needing no reading. */
  private readonly scan: PacketScan;
  private lastPatMs: number | null = null;
  /** PMT PID → last time it was seen (ms). */
  private readonly pmts = new Map<number, number>();
  /** Elementary stream PIDs, in the order the PMTs named them; per PID, when last seen (ms). */
  private readonly esPids: number[] = [];
  private readonly esSeenMs = new Float64Array(PIDS).fill(Number.NaN);
  /** Per elementary stream PID: its packet count when esSeenMs was last set from a scan. */
  private readonly esCounted = new Uint32Array(PIDS);
  /**
   * SCTE-35 cue PIDs (PMT stream_type 0x86): read for their splice_info_sections, and not held to
   * the PID timeout — cues come around breaks only, minutes apart.
   */
  private readonly cuePids = new Set<number>();
  /** Cues read since the last takeCues(), with when they arrived. */
  private readonly cues = new CueLog();
  /** Elementary stream PID → when its last PTS arrived (ms); only streams that carry PTS. */
  private readonly ptsSeen = new Map<number, number>();
  private pcrPid: number | null = null;
  private lastPcr: number | null = null;
  private startedMs: number | null = null;
  private lastPacketMs: number | null = null;
  private readonly pidTimeoutMs: number;
  private readonly pcrClock: boolean;
  private tableIntervalMs: number;
  private readonly pcrRepetition: boolean;
  private readonly pcrAccuracy: boolean;
  /** TsAnalyzerOptions.scan. */
  private readonly scanning: boolean;
  /** Null packets seen: the padding a constant-rate multiplexer adds. */
  private nullPackets = 0;
  /** `clock: 'pcr'`: stream time, ms, advanced by the PCR steps. */
  private streamMs = 0;
  /** PAT/PMT sections being put together from several packets. */
  private readonly sections = new SectionAssembler();
  /** Packets read so far (their positions for PCR accuracy), and per PID since the start. */
  private packets = 0;
  private readonly pidStats: (PidStats | undefined)[] = new Array(PIDS).fill(undefined);
  private readonly accuracy = new PcrAccuracy();
  /** Video PIDs (by PMT stream type) whose captions are read. */
  private readonly captionScanners = new Map<number, CaptionScanner>();

  constructor(options: TsAnalyzerOptions = {}) {
    this.pidTimeoutMs = (options.pidTimeoutSeconds ?? 5) * 1000;
    this.pcrClock = options.clock === 'pcr';
    this.tableIntervalMs = (options.tableIntervalSeconds ?? TABLE_INTERVAL_MS / 1000) * 1000;
    this.pcrRepetition = options.pcrRepetition ?? true;
    this.pcrAccuracy = options.pcrAccuracy ?? true;
    this.scanning = options.scan ?? false;
    this.scan = new PacketScan(this.scanning);
    this.scan.setClass(NULL_PID, ScanClass.Null);
  }

  /**
   * Changes the longest wait for the next PAT and PMT: on HLS, where they come once per segment,
   * the wait is the duration of the segment being read, which may exceed the target duration
   * the playlist first announced (packagers raise it when a segment runs long).
   */
  setTableInterval(seconds: number): void {
    this.tableIntervalMs = seconds * 1000;
  }

  /** The PMT PIDs the PAT names and the elementary stream PIDs the PMTs name. */
  get tables(): { pmtPids: number[]; esPids: number[]; cuePids: number[] } {
    return { pmtPids: [...this.pmts.keys()], esPids: [...this.esPids], cuePids: [...this.cuePids] };
  }

  /** Feeds bytes as they arrived (a UDP datagram, a segment); `nowMs` is ignored on the PCR clock. */
  push(given: Uint8Array, arrivalMs = 0): void {
    // A Buffer (a UDP datagram) is looked at through a plain Uint8Array view: one kind of array in
    // the per-packet code, and the caption scan's views of it are V8's, not Node's Buffer objects.
    const bytes =
      given.constructor === Uint8Array ? given : new Uint8Array(given.buffer, given.byteOffset, given.length);
    const nowMs = this.pcrClock ? this.streamMs : arrivalMs;
    this.startedMs ??= nowMs;
    if (!this.pcrClock && this.lastPacketMs !== null && nowMs - this.lastPacketMs > TABLE_INTERVAL_MS) {
      // Back after an outage (stream.loss): counters and clock restart; the gap is not a CC error.
      this.scan.lastCc.fill(-1);
      this.lastPcr = null;
    }
    this.lastPacketMs = nowMs;
    let offset = 0;
    if (this.carried > 0) {
      const need = PACKET - this.carried;
      if (bytes.length < need) {
        this.carry.set(bytes, this.carried);
        this.carried += bytes.length;
        return;
      }
      this.carry.set(bytes.subarray(0, need), this.carried);
      this.carried = 0;
      this.packet(this.carry, 0, this.pcrClock ? this.streamMs : nowMs);
      offset = need;
    }
    // The scan counts the packets that need no reading in its own copy of the bytes, a window at
    // a time; this reads the others (and resynchronises) in `bytes` itself.
    let windowAt = offset;
    let windowEnd = offset;
    while (offset + PACKET <= bytes.length) {
      if (this.scanning && offset + PACKET > windowEnd) {
        windowAt = offset;
        windowEnd = Math.min(bytes.length, offset + WINDOW);
        this.scan.load(bytes.subarray(windowAt, windowEnd));
      }
      const next = this.scanning ? windowAt + this.scan.scan(offset - windowAt) : offset;
      if (next > offset) {
        this.scanned((next - offset) / PACKET, this.pcrClock ? this.streamMs : nowMs);
        offset = next;
        continue;
      }
      if (bytes[offset] !== SYNC) {
        this.syncByteError();
        // Resynchronise on the next byte that starts packets in a row.
        const resync = this.findSync(bytes, offset + 1);
        if (resync < 0) return;
        offset = resync;
        continue;
      }
      this.packet(bytes, offset, this.pcrClock ? this.streamMs : nowMs);
      offset += PACKET;
    }
    if (offset < bytes.length) {
      this.carry.set(bytes.subarray(offset), 0);
      this.carried = bytes.length - offset;
    }
  }

  /** `n` packets the scan counted: in sync, and their elementary streams seen at `nowMs`. */
  private scanned(n: number, nowMs: number): void {
    this.badSyncRun = 0;
    this.synced = true;
    this.packets += n;
    this.nullPackets += this.scan.takeNulls();
    for (const pid of this.esPids) {
      if (this.scan.packets[pid] !== this.esCounted[pid]) {
        this.esCounted[pid] = this.scan.packets[pid];
        this.esSeenMs[pid] = nowMs;
      }
    }
  }

  /** Time-based checks (tables and PIDs not repeated); call often (e.g. every 100 ms). */
  check(nowMs: number): void {
    if (this.startedMs === null || nowMs - this.startedMs < this.tableIntervalMs) return;
    if (this.lastPacketMs !== null && nowMs - this.lastPacketMs > TABLE_INTERVAL_MS) {
      // Nothing arrives at all: the stream is gone (stream.loss), not its tables. Start afresh.
      this.lastPatMs = nowMs;
      for (const pid of this.pmts.keys()) this.pmts.set(pid, nowMs);
      for (const pid of this.esPids) this.esSeenMs[pid] = nowMs;
      for (const pid of this.ptsSeen.keys()) this.ptsSeen.set(pid, nowMs);
      return;
    }
    // Judged at the last packet, not the clock: a table is missing when packets kept coming past
    // its deadline without it. A feed that stops in between is the stream's loss (the check above
    // catches it a moment later), not a PAT or PMT error at the instant it stopped.
    const at = Math.min(nowMs, this.lastPacketMs ?? nowMs);
    if (this.lastPatMs === null || at - this.lastPatMs > this.tableIntervalMs) {
      this.errors.pat++;
      this.lastPatMs = at;
    }
    for (const [pid, seen] of this.pmts) {
      if (at - seen > this.tableIntervalMs) {
        this.errors.pmt++;
        this.pmts.set(pid, at);
      }
    }
    for (const [pid, seen] of this.ptsSeen) {
      if (nowMs - seen > PTS_INTERVAL_MS) {
        this.errors.pts++;
        this.ptsSeen.set(pid, nowMs);
      }
    }
    for (const pid of this.esPids) {
      if (nowMs - this.esSeenMs[pid] > this.pidTimeoutMs) {
        this.errors.pid++;
        this.esSeenMs[pid] = nowMs;
      }
    }
  }

  /** `clock: 'pcr'`: the stream's time so far, seconds, from its first PCR. */
  get pcrSeconds(): number {
    return this.streamMs / 1000;
  }

  /** SCTE-35 cues read since the last call: each decoded, or why it could not be. */
  takeCues(): CueReport[] {
    return this.cues.take();
  }

  /** The errors counted since the last call. */
  take(): TransportErrors {
    const errors = this.errors;
    // Carriages are gathered here, not per packet: a packet's worth is the same set, for nothing.
    for (const scanner of this.captionScanners.values())
      for (const carriage of scanner.take())
        if (!errors.captions.includes(carriage)) errors.captions.push(carriage);
    if (this.captionScanners.size) errors.captionServices = this.captionServices;
    this.errors = zero();
    return errors;
  }

  private syncByteError(): void {
    this.errors.syncByte++;
    if (++this.badSyncRun >= 2 && this.synced) {
      this.synced = false;
      this.errors.syncLoss++;
    }
  }

  private findSync(bytes: Uint8Array, from: number): number {
    for (let i = from; i + PACKET <= bytes.length; i++) {
      if (bytes[i] !== SYNC) continue;
      if (i + PACKET < bytes.length && bytes[i + PACKET] !== SYNC) continue;
      return i;
    }
    return -1;
  }

  private packet(b: Uint8Array, o: number, nowMs: number): void {
    this.badSyncRun = 0;
    this.synced = true;
    this.packets++;
    const tei = (b[o + 1] & 0x80) !== 0;
    const start = (b[o + 1] & 0x40) !== 0;
    const pid = ((b[o + 1] & 0x1f) << 8) | b[o + 2];
    const scrambled = (b[o + 3] & 0xc0) !== 0;
    const afc = (b[o + 3] >> 4) & 3;
    const cc = b[o + 3] & 0x0f;
    if (tei) {
      // Nothing else in a packet the modulator marked damaged can be trusted.
      this.errors.tei++;
      return;
    }
    if (pid === NULL_PID) {
      this.nullPackets++;
      return;
    }
    let payload = o + 4;
    let discontinuity = false;
    if (afc & 2) {
      const length = b[o + 4];
      if (length > 0) {
        const flags = b[o + 5];
        discontinuity = (flags & 0x80) !== 0;
        if (flags & 0x10 && length >= 7 && pid === this.pcrPid) this.pcr(b, o + 6, discontinuity);
      }
      payload = o + 5 + length;
    }
    this.continuity(pid, cc, (afc & 1) !== 0, discontinuity);
    const elementary = !Number.isNaN(this.esSeenMs[pid]);
    if (elementary) this.esSeenMs[pid] = nowMs;
    if (!(afc & 1) || payload >= o + PACKET) return;
    if (elementary) {
      if (start && !scrambled && payload + 9 <= o + PACKET && hasPts(b, payload))
        this.ptsSeen.set(pid, nowMs);
      const scanner = scrambled ? undefined : this.captionScanners.get(pid);
      if (scanner) this.scanCaptions(pid, scanner, b, payload, o + PACKET, start);
      return;
    }
    if (this.cuePids.has(pid)) {
      if (!scrambled)
        this.sections.push(
          pid,
          b,
          payload,
          o + PACKET,
          start,
          (section) => this.cues.section(section, nowMs),
          () => this.cues.truncated(nowMs),
        );
      return;
    }
    if (pid === 0) {
      if (scrambled) this.errors.pat++;
      else this.psi(b, payload, o + PACKET, start, nowMs, 0);
    } else if (this.pmts.has(pid)) {
      if (scrambled) this.errors.pmt++;
      else this.psi(b, payload, o + PACKET, start, nowMs, pid);
    }
  }

  private continuity(pid: number, cc: number, hasPayload: boolean, discontinuity: boolean): void {
    let stats = this.pidStats[pid];
    if (!stats) {
      stats = { errors: 0, missing: 0, duplicates: 0 };
      this.pidStats[pid] = stats;
    }
    const { scan } = this;
    scan.packets[pid]++;
    const lastCc = scan.lastCc[pid];
    const lastFlags = scan.lastCcFlags[pid];
    scan.lastCc[pid] = cc;
    scan.lastCcFlags[pid] = hasPayload ? PAYLOAD : 0;
    if (lastCc < 0 || discontinuity) return;
    if (!hasPayload) {
      if (cc !== lastCc) this.continuityError(pid, stats, 0);
      return;
    }
    if (cc === lastCc) {
      // One repetition of a packet is allowed; a second is an error.
      if (lastFlags & REPEATED) this.continuityError(pid, stats, 0);
      else if (lastFlags & PAYLOAD) {
        // A payload packet sent again (after an adaptation-only one, the same counter is not a copy).
        stats.duplicates++;
        this.errors.duplicatePackets++;
      }
      scan.lastCcFlags[pid] = REPEATED | PAYLOAD;
      return;
    }
    if (cc !== ((lastCc + 1) & 0x0f)) this.continuityError(pid, stats, (cc - lastCc - 1) & 0x0f);
  }

  private continuityError(pid: number, stats: PidStats, missing: number): void {
    this.errors.continuity++;
    this.errors.missingPackets += missing;
    const name = pidName(pid);
    this.errors.continuityByPid[name] = (this.errors.continuityByPid[name] ?? 0) + 1;
    stats.errors++;
    stats.missing += missing;
  }

  /**
   * A video packet's payload to its caption scanner, past the PES header when one starts here.
   * The scan passes over the PID's plain packets while the scanner is between units; it kept the
   * last two bytes of the payloads it passed over, which the scanner takes back first.
   */
  private scanCaptions(
    pid: number,
    scanner: CaptionScanner,
    b: Uint8Array,
    from: number,
    end: number,
    start: boolean,
  ): void {
    if (this.scanning && this.scan.classOf(pid) === ScanClass.Captions)
      scanner.resumePlain(this.scan.tail(pid));
    let at = from;
    if (start) {
      if (from + 9 > end || b[from] !== 0 || b[from + 1] !== 0 || b[from + 2] !== 1) return;
      scanner.pesStart();
      at = from + 9 + b[from + 8];
    }
    if (at < end) scanner.push(b, at, end);
    if (!this.scanning) return;
    const tail = scanner.plainTail();
    if (tail < 0) this.scan.setClass(pid, ScanClass.None);
    else {
      this.scan.setTail(pid, tail);
      this.scan.setClass(pid, ScanClass.Captions);
    }
  }

  /** The whole stream so far: packets and continuity per PID, the PCR figures (2.3, 2.4). */
  get report(): TransportReport {
    return {
      packets: this.packets,
      pids: this.pidStats.flatMap((s, pid) =>
        s
          ? [
              {
                pid: pidName(pid),
                packets: this.scan.packets[pid],
                continuityErrors: s.errors,
                missing: s.missing,
                duplicates: s.duplicates,
              },
            ]
          : [],
      ),
      pcr: this.pcrPid === null ? null : { pid: pidName(this.pcrPid), ...this.accuracy.figures },
      captionServices: this.captionServices,
    };
  }

  /** Caption services that carried something so far, in order: CC1–CC4, then 708 services. */
  get captionServices(): string[] {
    const all = new Set<string>();
    for (const scanner of this.captionScanners.values()) for (const s of scanner.services) all.add(s);
    const order = (s: string) => (s.startsWith('CC') ? `0${s}` : `1${s.padStart(8, '0')}`);
    return [...all].sort((a, b) => order(a).localeCompare(order(b)));
  }

  private pcr(b: Uint8Array, at: number, discontinuity: boolean): void {
    const base = b[at] * 2 ** 25 + (b[at + 1] << 17) + (b[at + 2] << 9) + (b[at + 3] << 1) + (b[at + 4] >> 7);
    const ext = ((b[at + 4] & 1) << 8) | b[at + 5];
    const pcr = base * 300 + ext;
    const last = this.lastPcr;
    this.lastPcr = pcr;
    // The byte with the last bit of program_clock_reference_base: the PCR's position (2.4).
    const position = (this.packets - 1) * PACKET + 10;
    if (last === null || discontinuity) {
      this.accuracy.add(position, null);
      return;
    }
    let delta = pcr - last;
    if (delta < -PCR_WRAP / 2) delta += PCR_WRAP;
    const seconds = delta / 27e6;
    const judged = this.accuracy.add(
      position,
      seconds >= 0 && seconds <= 1 ? delta : null,
      this.nullPackets > 0,
    );
    if (judged && this.pcrAccuracy) this.errors.pcrAccuracy++;
    if (seconds < 0 || (this.pcrRepetition && seconds > PCR_INTERVAL)) this.errors.pcr++;
    if (this.pcrClock && seconds >= 0 && seconds <= 1) {
      this.streamMs += seconds * 1000;
      this.lastPacketMs = this.streamMs;
      this.check(this.streamMs);
    }
  }

  /** A PAT or PMT payload of one packet: its sections, once whole, to table(). */
  private psi(b: Uint8Array, from: number, end: number, start: boolean, nowMs: number, pid: number): void {
    const kind = pid === 0 ? 'pat' : 'pmt';
    this.sections.push(
      pid,
      b,
      from,
      end,
      start,
      (section) => this.table(section, nowMs, kind, pid),
      () => {
        if (kind === 'pat') this.errors.pat++;
        else this.errors.pmt++;
      },
    );
  }

  /** One whole PSI section. */
  private table(section: Uint8Array, nowMs: number, kind: 'pat' | 'pmt', pid: number): void {
    const expectedId = kind === 'pat' ? 0x00 : 0x02;
    if (section[0] !== expectedId) {
      if (kind === 'pat') this.errors.pat++;
      else this.errors.pmt++;
      return;
    }
    if (section.length < 12) return;
    if (crc32(section, 0, section.length) !== 0) {
      this.errors.crc++;
      return;
    }
    if (kind === 'pat') {
      this.lastPatMs = nowMs;
      for (const pmtPid of readPat(section)) if (!this.pmts.has(pmtPid)) this.pmts.set(pmtPid, nowMs);
      return;
    }
    this.pmts.set(pid, nowMs);
    const pmt = readPmt(section);
    this.pcrPid = pmt.pcrPid;
    for (const { pid: esPid, type } of pmt.streams) {
      if (type === SCTE35_STREAM_TYPE) this.cuePids.add(esPid);
      else if (Number.isNaN(this.esSeenMs[esPid])) {
        this.esPids.push(esPid);
        this.esSeenMs[esPid] = nowMs;
      }
      const codec = CAPTION_STREAM_TYPES[type];
      if (codec && !this.captionScanners.has(esPid)) {
        this.captionScanners.set(esPid, new CaptionScanner(codec));
        this.scan.setClass(esPid, ScanClass.None);
      }
      // Captions' PIDs join the scan once their scanner is between units (scanCaptions).
      if (type !== SCTE35_STREAM_TYPE && !this.captionScanners.has(esPid) && esPid !== NULL_PID)
        this.scan.setClass(esPid, ScanClass.Plain);
    }
  }
}
