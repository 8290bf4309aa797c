/**
 * Decoders run at a lower CPU priority than the worker itself. A worker's own thread does little
 * per stream (reading pipes and sockets, the detectors, leases) but must do it on time; dozens of
 * decoders at the same priority would get the same share each and leave it late whenever the
 * cores are busy. Niced, a decoder that cannot keep up falls behind the live edge (measured, and
 * a reason to shed work) instead of making every stream's clock, transport timing and lease late.
 */
import type { ChildProcess } from 'node:child_process';
import { setPriority } from 'node:os';
import { decoderNice } from '../../shared/config.js';

const NICE = decoderNice();

/** Lowers a just-spawned ffmpeg/ffprobe to the decoders' priority (STREAMQC_DECODER_NICE). */
export function lowerPriority(child: ChildProcess): void {
  if (!NICE || !child.pid) return;
  try {
    setPriority(child.pid, NICE);
  } catch {
    // Exited already, or not allowed here: it runs at the worker's priority.
  }
}
