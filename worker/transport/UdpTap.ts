/**
 * Reads a UDP transport stream in the worker itself: every datagram goes through the TR 101 290
 * checks (TsAnalyzer) and on to the decoder at a loopback port that is ffmpeg's input. One read
 * serves both; ffmpeg keeps its own UDP input (probing, timeouts, restarts) unchanged. The tap
 * lives as long as the stream's pipeline, so the source's port stays bound across restarts of
 * the decoder and nothing the sender sends meanwhile is counted as lost by the checks.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv4 } from 'node:net';
import type { Logger } from '../../shared/logger.js';
import { TsAnalyzer } from './TsAnalyzer.js';

export class UdpTap {
  readonly analyzer: TsAnalyzer;

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
    if (multicast) input.addMembership(host);
    try {
      input.setRecvBufferSize(4 * 1024 * 1024);
    } catch {
      // Capped by net.core.rmem_max; the kernel default still works at these rates.
    }
    const relayPort = await freeLoopbackPort();
    const output = createSocket('udp4');
    const tap = new UdpTap(input, output, `udp://127.0.0.1:${relayPort}`, pidTimeoutSeconds);
    input.on('message', (message) => {
      tap.analyzer.push(message, Date.now());
      output.send(message, relayPort, '127.0.0.1');
    });
    const onError = (e: Error) => logger.warn({ err: e.message }, 'udp tap socket error');
    input.on('error', onError);
    output.on('error', onError);
    logger.info({ port, relayPort, multicast }, 'reading the transport stream in the worker');
    return tap;
  }

  close(): void {
    for (const socket of [this.input, this.output]) {
      try {
        socket.close();
      } catch {
        // Already closed.
      }
    }
  }
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
