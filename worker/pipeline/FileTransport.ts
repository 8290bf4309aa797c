/**
 * TR 101 290 on a recorded MPEG transport stream (`streamqc analyze capture.ts`): the file's bytes
 * read by the same analyser as a live feed (transport/TsAnalyzer.ts), on the stream's own PCR
 * clock — a file does not arrive in real time — and the errors handed to the transport detectors
 * every 0.1 s of that clock, so a capture raises the events a live feed would, dated on its
 * transport timeline from its first PCR (pictures travel ahead of their presentation time: a
 * packet lost from a picture shown at 5 s is missing around 4–5 s of the transport).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Detector } from '../detectors/types.js';
import { PACKET, type TransportReport, TsAnalyzer } from '../transport/TsAnalyzer.js';
import type { PipelineOptions } from './types.js';

/** Bytes read from the file at a time. */
const READ = 1 << 20;
/** Bytes handed to the analyser at a time: about 30 ms of a 3 Mb/s stream. */
const PIECE = PACKET * 64;
/** Errors are handed on (and so dated) at this step of the PCR clock, seconds. */
const STEP = 0.1;

/** The local path of a file source (a path, or a file: URL). */
export function localPath(source: string): string {
  return source.startsWith('file:') ? fileURLToPath(source) : source;
}

/** True when the file starts like a transport stream (sync bytes 188 bytes apart). */
export function looksLikeTransportStream(path: string): boolean {
  let fd: number | null = null;
  try {
    fd = openSync(path, 'r');
    const head = Buffer.alloc(PACKET * 2 + 1);
    const n = readSync(fd, head, 0, head.length, 0);
    return n > PACKET && head[0] === 0x47 && head[PACKET] === 0x47;
  } catch {
    return false;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/**
 * Reads the whole file through the analyser, handing the detectors its errors as the PCR clock
 * goes; resolves with the file's transport report (per PID, PCR figures).
 */
export async function checkTransportFile(
  path: string,
  detectors: readonly Detector[],
  pidTimeoutSeconds: number,
  signal?: AbortSignal,
): Promise<TransportReport> {
  const analyzer = new TsAnalyzer({ clock: 'pcr', pidTimeoutSeconds, scan: true });
  let from = 0;
  const hand = (to: number) => {
    const errors = analyzer.take();
    for (const d of detectors) d.onTransport?.(errors, from, Math.max(0, to - from));
    from = to;
  };
  // Large reads (a stream of small ones costs more than the checks), fed to the analyser in small
  // pieces so that errors are dated to within STEP of the PCR clock.
  const file = await open(path, 'r');
  try {
    // A plain Uint8Array, not a Buffer: its pieces, and the analyser's own views of them, are then
    // V8's cheap typed-array views instead of Buffers made by Node's constructor (and garbage).
    const buffer = new Uint8Array(READ);
    for (;;) {
      signal?.throwIfAborted();
      const { bytesRead } = await file.read(buffer, 0, READ, null);
      if (bytesRead === 0) break;
      for (let at = 0; at < bytesRead; at += PIECE) {
        analyzer.push(buffer.subarray(at, Math.min(bytesRead, at + PIECE)));
        if (analyzer.pcrSeconds - from >= STEP) hand(analyzer.pcrSeconds);
      }
    }
  } finally {
    await file.close();
  }
  hand(analyzer.pcrSeconds);
  return analyzer.report;
}

/** A file run (not live) of a transport stream file with transport checks on: runs them over it. */
export async function checkRecordedTransport(
  options: Pick<PipelineOptions, 'live' | 'kind' | 'thresholds'>,
  source: string,
  detectors: readonly Detector[],
): Promise<TransportReport | null> {
  if (options.live || options.kind !== 'file' || detectors.length === 0) return null;
  const path = localPath(source);
  if (!looksLikeTransportStream(path)) return null;
  return checkTransportFile(path, detectors, options.thresholds.transport.pidTimeout);
}
