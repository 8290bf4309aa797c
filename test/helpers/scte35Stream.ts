/**
 * Transport streams with SCTE-35 for tests: an FFmpeg-made TS gets a cue PID in its PMT (stream
 * type 0x86) and splice_insert cues at chosen programme times, and a sender plays it over UDP at
 * the pace of its own PCR (FFmpeg 5.1 drops data streams it re-muxes, so it cannot send it).
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { crc32 } from '../../worker/transport/psi.js';

const PACKET = 188;
export const CUE_PID = 0x1f0;

const pidOf = (b: Buffer, o: number) => ((b[o + 1] & 0x1f) << 8) | b[o + 2];

/**
 * A splice_insert section: out of network (with a break duration, returning by itself unless
 * `autoReturn` is false) or back, at `pts` (90 kHz).
 */
export function spliceInsert(
  eventId: number,
  outOfNetwork: boolean,
  pts: number,
  durationTicks?: number,
  autoReturn = true,
): Buffer {
  const time = [0xfe | Math.floor(pts / 2 ** 32), ...u32(pts % 2 ** 32)];
  const duration = durationTicks
    ? [(autoReturn ? 0x80 : 0) | 0x7e | Math.floor(durationTicks / 2 ** 32), ...u32(durationTicks % 2 ** 32)]
    : [];
  const command = [
    ...u32(eventId),
    0x7f,
    (outOfNetwork ? 0x80 : 0) | 0x40 | (durationTicks ? 0x20 : 0) | 0x0f,
    ...time,
    ...duration,
    0x00,
    0x01,
    0x00,
    0x00,
  ];
  return section(0x05, command);
}

/** A splice_null section: the heartbeat some channels send between breaks. */
export function spliceNull(): Buffer {
  return section(0x00, []);
}

/** A splice_info_section around one splice command (no descriptors), with its CRC-32. */
function section(commandType: number, command: number[]): Buffer {
  const body = [
    0x00,
    0x00,
    0,
    0,
    0,
    0,
    0x00,
    0xff,
    0xf0 | (command.length >> 8),
    command.length & 0xff,
    commandType,
    ...command,
    0x00,
    0x00,
  ];
  const length = body.length + 4;
  const bytes = Buffer.from([0xfc, 0x30 | (length >> 8), length & 0xff, ...body, 0, 0, 0, 0]);
  bytes.writeUInt32BE(crc32(bytes, 0, bytes.length - 4), bytes.length - 4);
  return bytes;
}

function u32(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

/** The first PTS (90 kHz) of the video PID's PES packets. */
function firstVideoPts(ts: Buffer, videoPid: number): number {
  for (let o = 0; o + PACKET <= ts.length; o += PACKET) {
    if (pidOf(ts, o) !== videoPid || !(ts[o + 1] & 0x40)) continue;
    const p = o + 4 + (ts[o + 3] & 0x20 ? ts[o + 4] + 1 : 0);
    if (ts[p] !== 0 || ts[p + 1] !== 0 || ts[p + 2] !== 1 || !(ts[p + 7] & 0x80)) continue;
    const b = ts.subarray(p + 9, p + 14);
    return ((b[0] >> 1) & 7) * 2 ** 30 + (b[1] << 22) + ((b[2] >> 1) << 15) + (b[3] << 7) + (b[4] >> 1);
  }
  throw new Error('no video PTS');
}

/**
 * `clip` with a cue PID in its PMT and, when `cues` is given, a cue packet at each programme time
 * `sendAt` (seconds from the first video PTS) announcing a splice at `spliceAt`.
 */
export function withCues(
  clip: string,
  cues: { sendAt: number; section: (firstPts: number) => Buffer }[],
  pmtPid = 0x1000,
  videoPid = 0x100,
): Buffer {
  const ts = readFileSync(clip);
  const first = firstVideoPts(ts, videoPid);
  const out: Buffer[] = [];
  const pending = [...cues].sort((a, b) => a.sendAt - b.sendAt);
  let cc = 0;
  for (let o = 0; o + PACKET <= ts.length; o += PACKET) {
    let packet: Buffer = Buffer.from(ts.subarray(o, o + PACKET));
    if (pidOf(packet, 0) === pmtPid && packet[1] & 0x40) packet = addCueStream(packet);
    out.push(packet);
    // A cue once the video has reached its send time (judged at each video PES start).
    if (pending.length && pidOf(packet, 0) === videoPid && packet[1] & 0x40) {
      const now = ptsOfPacket(packet);
      while (pending.length && now !== null && now - first >= pending[0].sendAt * 90_000) {
        const section = pending.shift()!.section(first);
        const cue = Buffer.alloc(PACKET, 0xff);
        cue.set([0x47, 0x40 | (CUE_PID >> 8), CUE_PID & 0xff, 0x10 | (cc++ & 0x0f), 0x00], 0);
        section.copy(cue, 5);
        out.push(cue);
      }
    }
  }
  return Buffer.concat(out);
}

function ptsOfPacket(packet: Buffer): number | null {
  const p = 4 + (packet[3] & 0x20 ? packet[4] + 1 : 0);
  if (packet[p] !== 0 || packet[p + 1] !== 0 || packet[p + 2] !== 1 || !(packet[p + 7] & 0x80)) return null;
  const b = packet.subarray(p + 9, p + 14);
  return ((b[0] >> 1) & 7) * 2 ** 30 + (b[1] << 22) + ((b[2] >> 1) << 15) + (b[3] << 7) + (b[4] >> 1);
}

/** The PMT packet with an SCTE-35 stream (type 0x86 on CUE_PID) added before its CRC. */
function addCueStream(packet: Buffer): Buffer {
  const s = 5 + packet[4];
  const length = ((packet[s + 1] & 0x0f) << 8) | packet[s + 2];
  const end = s + 3 + length - 4;
  const section = Buffer.concat([
    packet.subarray(s, end),
    Buffer.from([0x86, 0xe0 | (CUE_PID >> 8), CUE_PID & 0xff, 0xf0, 0x00]),
    Buffer.alloc(4),
  ]);
  section[1] = (section[1] & 0xf0) | ((length + 5) >> 8);
  section[2] = (length + 5) & 0xff;
  section.writeUInt32BE(crc32(section, 0, section.length - 4), section.length - 4);
  const out = Buffer.alloc(PACKET, 0xff);
  packet.copy(out, 0, 0, s);
  section.copy(out, s);
  return out;
}

/** Sends a TS over UDP in 7-packet datagrams at the pace of its PCRs; stop() ends it. */
export function sendPaced(ts: Buffer, port: number): { stop(): void; done: Promise<void> } {
  const socket = createSocket('udp4');
  let stopped = false;
  const done = (async () => {
    const started = Date.now();
    let firstPcr: number | null = null;
    for (let o = 0; o < ts.length && !stopped; o += 7 * PACKET) {
      const chunk = ts.subarray(o, Math.min(ts.length, o + 7 * PACKET));
      for (let p = 0; p + PACKET <= chunk.length; p += PACKET) {
        if (!(chunk[p + 3] & 0x20) || chunk[p + 4] < 7 || !(chunk[p + 5] & 0x10)) continue;
        const b = chunk.subarray(p + 6, p + 11);
        const pcr = (b[0] * 2 ** 25 + (b[1] << 17) + (b[2] << 9) + (b[3] << 1) + (b[4] >> 7)) / 90_000;
        firstPcr ??= pcr;
        const wait = (pcr - firstPcr) * 1000 - (Date.now() - started);
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      socket.send(chunk, port, '127.0.0.1');
    }
  })().finally(() => socket.close());
  return {
    stop: () => {
      stopped = true;
    },
    done,
  };
}
