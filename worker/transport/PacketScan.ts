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
const PAGE = 65536;

let compiled: WebAssembly.Module | null = null;

export class PacketScan {
  private readonly wasm: PacketScanExports;
  /** The memory, as bytes: the input the analyser reads its packets from. */
  bytes!: Uint8Array;
  /** Per PID: the last continuity counter, −1 before its first packet (or after an outage). */
  lastCc!: Int8Array;
  /** Per PID: the REPEATED and PAYLOAD bits of its last packet. */
  lastCcFlags!: Uint8Array;
  /** Per PID: packets so far. */
  packets!: Uint32Array;
  private classes!: Uint8Array;

  constructor() {
    compiled ??= new WebAssembly.Module(Buffer.from(PACKET_SCAN_WASM, 'base64'));
    this.wasm = new WebAssembly.Instance(compiled).exports as unknown as PacketScanExports;
    this.view();
    this.lastCc.fill(-1);
  }

  /** Copies `bytes` where the scan reads them; returns where they start in `this.bytes`. */
  load(bytes: Uint8Array): number {
    const needed = INPUT + bytes.length;
    if (needed > this.wasm.memory.buffer.byteLength) {
      this.wasm.memory.grow(Math.ceil((needed - this.wasm.memory.buffer.byteLength) / PAGE));
      this.view();
    }
    this.bytes.set(bytes, INPUT);
    return INPUT;
  }

  /** Counts the packets from `at` that need no reading; returns where the first that does starts. */
  scan(at: number, end: number): number {
    return this.wasm.scan(at, end);
  }

  /** Null packets the scan counted since the last call. */
  takeNulls(): number {
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

  /** (Re)makes the views of the memory: growing it detaches the old ones. */
  private view(): void {
    const buffer = this.wasm.memory.buffer;
    this.bytes = new Uint8Array(buffer);
    this.lastCc = new Int8Array(buffer, 0, PIDS);
    this.lastCcFlags = new Uint8Array(buffer, LAST_FLAGS, PIDS);
    this.classes = new Uint8Array(buffer, CLASS, PIDS);
    this.packets = new Uint32Array(buffer, PACKETS, PIDS);
  }
}
