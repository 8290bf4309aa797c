/**
 * Reads a child's output pipe into one reused buffer. A stream socket's 'data' events come in
 * reads of at most 64 kB, each in a newly allocated Buffer: a 115 kB picture took two or three
 * deliveries and allocations. net.Socket's `onread` reads into a buffer of ours instead, as much
 * as the pipe holds at once: one delivery per picture or sound chunk, nothing allocated.
 */
import { Socket } from 'node:net';
import type { Readable } from 'node:stream';

/** Large enough for the biggest picture or sound chunk the converter asks for in one read. */
const READ_BUFFER_BYTES = 256 * 1024;

/**
 * Hands every read of `pipe` to `onBytes` (a view valid only during the call) and returns the
 * stream to wait on for the end. child_process makes its pipes sockets without `onread`, so the
 * pipe's handle moves to a socket that has one; the original, left without a handle, is closed
 * without touching the descriptor (child_process counts its close as the pipe's). A stream that
 * is not such a socket is read through 'data'.
 */
export function readPipe(
  pipe: Readable,
  onBytes: (bytes: Uint8Array) => void,
  bufferBytes = READ_BUFFER_BYTES,
): Readable {
  const holder = pipe as unknown as { _handle?: object | null };
  const handle = holder._handle;
  if (!(pipe instanceof Socket) || !handle) {
    pipe.on('data', (b: Buffer) => onBytes(b));
    return pipe;
  }
  holder._handle = null;
  pipe.destroy();
  const buffer = new Uint8Array(bufferBytes);
  const reader = new Socket({
    handle,
    readable: true,
    writable: false,
    onread: { buffer, callback: (n: number) => onBytes(buffer.subarray(0, n)) },
  } as ConstructorParameters<typeof Socket>[0]);
  // A read error ends the pipe; ffmpeg's exit says why.
  reader.on('error', () => {});
  return reader;
}
