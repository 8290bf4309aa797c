/**
 * Reads a UDP transport stream in the worker itself: every datagram goes through the TR 101 290
 * checks (TsAnalyzer) and on to the decoder at a loopback port that is ffmpeg's input. One read
 * serves both; ffmpeg keeps its own UDP input (probing, timeouts, restarts) unchanged. An RTP
 * source (RFC 3550 carrying MPEG-TS, RFC 2250) is read the same way: the RTP header is taken off
 * and the transport stream inside is checked and relayed as plain UDP. The tap
 * lives as long as the stream's pipeline, so the source's port stays bound across restarts of
 * the decoder and nothing the sender sends meanwhile is counted as lost by the checks.
 *
 * Datagrams are relayed in batches: everything read in one turn of the event loop goes to the
 * checks and to the decoder as one chunk (one loopback datagram of up to 348 TS packets), so the
 * cost per second stays about the same however many small datagrams the sender cuts the stream
 * into, and no datagram waits longer than the turn it arrived in. The relay socket is connected
 * to the decoder's port: a send names no address (each one looked its address up, a tick).
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv4 } from 'node:net';
import type { Logger } from '../../shared/logger.js';
import { PACKET, TsAnalyzer } from './TsAnalyzer.js';

/** The largest relay datagram: whole TS packets within an IPv4 UDP payload (65,507 bytes). */
export const RELAY_DATAGRAM_BYTES = 348 * PACKET;

export class UdpTap {
  readonly analyzer: TsAnalyzer;
  closed = false;

  private constructor(
    private readonly input: Socket,
    private readonly output: Socket,
    /** The loopback URL ffmpeg reads. */
    readonly url: string,
    pidTimeoutSeconds: number,
  ) {
    this.analyzer = new TsAnalyzer({ pidTimeoutSeconds });
  }

  /**
   * Binds the source's port (joining the group for a multicast address, as ffmpeg does) and
   * picks a free loopback port for the decoder.
   */
  static async open(source: string, logger: Logger, pidTimeoutSeconds = 5): Promise<UdpTap> {
    const url = new URL(source);
    const rtp = url.protocol === 'rtp:';
    const port = Number(url.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`no port in ${source}`);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const multicast = isIPv4(host) && Number(host.split('.')[0]) >= 224 && Number(host.split('.')[0]) <= 239;
    const input = createSocket({ type: 'udp4', reuseAddr: multicast });
    await new Promise<void>((resolve, reject) => {
      input.once('error', reject);
      input.bind(port, multicast ? undefined : bindAddress(host), () => {
        input.off('error', reject);
        resolve();
      });
    });
    const output = createSocket('udp4');
    let relayPort: number;
    try {
      if (multicast) input.addMembership(host);
      try {
        input.setRecvBufferSize(4 * 1024 * 1024);
      } catch {
        // Capped by net.core.rmem_max; the kernel default still works at these rates.
      }
      relayPort = await freeLoopbackPort();
      await new Promise<void>((resolve, reject) => {
        output.once('error', reject);
        output.connect(relayPort, '127.0.0.1', () => {
          output.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      // Nothing may keep the source's port bound when the tap cannot be opened.
      input.close();
      output.close();
      throw e;
    }
    // ffmpeg reads datagrams up to pkt_size (1,472 by default): the relay's batches are larger.
    const relayUrl = `udp://127.0.0.1:${relayPort}?pkt_size=${RELAY_DATAGRAM_BYTES}`;
    const tap = new UdpTap(input, output, relayUrl, pidTimeoutSeconds);
    let batch: Buffer[] = [];
    let bytes = 0;
    const flush = () => {
      // A batch that arrived in the turn the tap was closed goes nowhere.
      if (!bytes || tap.closed) return;
      const chunk = batch.length === 1 ? batch[0] : Buffer.concat(batch, bytes);
      batch = [];
      bytes = 0;
      tap.analyzer.push(chunk, Date.now());
      output.send(chunk);
    };
    input.on('message', (message) => {
      const ts = rtp ? rtpPayload(message) : message;
      if (!ts) return;
      if (bytes + ts.length > RELAY_DATAGRAM_BYTES) flush();
      if (!bytes) setImmediate(flush);
      batch.push(ts);
      bytes += ts.length;
    });
    const onError = (e: Error) => logger.warn({ err: e.message }, 'udp tap socket error');
    input.on('error', onError);
    // Refused: no decoder on the relay port (starting, restarting); the batch is lost, as any
    // datagram sent to a port nobody reads.
    output.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'ECONNREFUSED') onError(e);
    });
    logger.info({ port, relayPort, multicast, rtp }, 'reading the transport stream in the worker');
    return tap;
  }

  close(): void {
    this.closed = true;
    for (const socket of [this.input, this.output]) {
      try {
        socket.close();
      } catch {
        // Already closed.
      }
    }
  }
}

/**
 * The MPEG-TS inside an RTP packet (version 2; CSRC list, header extension and padding skipped),
 * or the datagram itself when it is plain TS (a sender that sends no RTP header); null when it is
 * neither.
 */
export function rtpPayload(datagram: Buffer): Buffer | null {
  if (isPlainTs(datagram)) return datagram;
  if (datagram.length < 12 || datagram[0] >> 6 !== 2) return null;
  let start = 12 + 4 * (datagram[0] & 0x0f);
  if (datagram[0] & 0x10) {
    if (start + 4 > datagram.length) return null;
    start += 4 + 4 * datagram.readUInt16BE(start + 2);
  }
  const end = datagram[0] & 0x20 ? datagram.length - datagram[datagram.length - 1] : datagram.length;
  return start < end ? datagram.subarray(start, end) : null;
}

/** Whole TS packets: a multiple of 188 bytes, each starting with the sync byte. */
function isPlainTs(datagram: Buffer): boolean {
  if (datagram.length === 0 || datagram.length % PACKET !== 0) return false;
  for (let o = 0; o < datagram.length; o += PACKET) if (datagram[o] !== 0x47) return false;
  return true;
}

/** ffmpeg binds a unicast UDP input to every address; a loopback source stays on loopback. */
function bindAddress(host: string): string | undefined {
  return host === '127.0.0.1' || host === 'localhost' ? '127.0.0.1' : undefined;
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createSocket('udp4');
    probe.once('error', reject);
    probe.bind(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}
