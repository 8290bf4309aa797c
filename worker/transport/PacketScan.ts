/**
 * The transport analyser's per-packet state and its WebAssembly scan (packetScan.wat): most
 * packets of a stream (the middle of its pictures and sound) need only their continuity counter
 * checked and counting; the scan does that without a call into JavaScript per packet, and stops
 * at the first packet TsAnalyzer must read itself. One instance per analyser: the state is its.
 */
import { PACKET_SCAN_WASM } from './packetScanWasm.js';

interface PacketScanExports {
  memory: WebAssembly.Memory;
  nulls: WebAssembly.Global;
  scan(at: number, end: number): number;
}

/**
 * Which packets of a PID the scan counts: none; its plain ones; its plain ones whose payload holds
 * no start code (a video PID whose captions are read); all of them (the null PID).
 */
export const ScanClass = { None: 0, Plain: 1, Captions: 2, Null: 3 } as const;
export type ScanClass = (typeof ScanClass)[keyof typeof ScanClass];

const PIDS = 0x2000;
const LAST_FLAGS = 0x2000;
const CLASS = 0x4000;
const TAIL = 0x6000;
const PACKETS = 0xa000;
/** Where the bytes being read are put. */
const INPUT = 0x12000;
/**
 * Most bytes scanned at a time. The memory never grows (it cannot shrink): an HLS segment of
 * several MB is scanned a window at a time, not copied whole into every rendition's analyser.
 */
export const WINDOW = 64 * 1024;

let compiled: WebAssembly.Module | null = null;

export class PacketScan {
  /** Null: state only, in plain arrays (the analyser reads every packet itself). */
  private readonly wasm: PacketScanExports | null;
  private readonly bytes: Uint8Array;
  /** Per PID: the last continuity counter, −1 before its first packet (or after an outage). */
  readonly lastCc: Int8Array;
  /** Per PID: the REPEATED and PAYLOAD bits of its last packet. */
  readonly lastCcFlags: Uint8Array;
  /** Per PID: packets so far. */
  readonly packets: Uint32Array;
  private readonly classes: Uint8Array;
  /** The window loaded: its length. */
  private loaded = 0;

  /** `scanning` false: the per-PID state alone, no WebAssembly (live feeds' analysers). */
  constructor(scanning = true) {
    let buffer: ArrayBuffer;
    if (scanning) {
      compiled ??= new WebAssembly.Module(Buffer.from(PACKET_SCAN_WASM, 'base64'));
      this.wasm = new WebAssembly.Instance(compiled).exports as unknown as PacketScanExports;
      buffer = this.wasm.memory.buffer;
    } else {
      this.wasm = null;
      buffer = new ArrayBuffer(INPUT);
    }
    this.bytes = new Uint8Array(buffer);
    this.lastCc = new Int8Array(buffer, 0, PIDS).fill(-1);
    this.lastCcFlags = new Uint8Array(buffer, LAST_FLAGS, PIDS);
    this.classes = new Uint8Array(buffer, CLASS, PIDS);
    this.packets = new Uint32Array(buffer, PACKETS, PIDS);
  }

  /** Copies `bytes` (at most WINDOW) where the scan reads them. */
  load(bytes: Uint8Array): void {
    this.bytes.set(bytes, INPUT);
    this.loaded = bytes.length;
  }

  /**
   * Counts the packets from offset `at` of the window loaded that need no reading; returns the
   * offset of the first that does, or of the first not whole in the window.
   */
  scan(at: number): number {
    if (!this.wasm) return at;
    return this.wasm.scan(INPUT + at, INPUT + this.loaded) - INPUT;
  }

  /** Null packets the scan counted since the last call. */
  takeNulls(): number {
    if (!this.wasm) return 0;
    const n = this.wasm.nulls.value as number;
    this.wasm.nulls.value = 0;
    return n;
  }

  classOf(pid: number): ScanClass {
    return this.classes[pid] as ScanClass;
  }

  setClass(pid: number, scanClass: ScanClass): void {
    this.classes[pid] = scanClass;
  }

  /** ScanClass.Captions: the last two payload bytes of `pid`, as `(first << 8) | second`. */
  tail(pid: number): number {
    return (this.bytes[TAIL + 2 * pid] << 8) | this.bytes[TAIL + 2 * pid + 1];
  }

  setTail(pid: number, tail: number): void {
    this.bytes[TAIL + 2 * pid] = tail >> 8;
    this.bytes[TAIL + 2 * pid + 1] = tail & 0xff;
  }
}
