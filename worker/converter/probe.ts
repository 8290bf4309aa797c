/** Asks ffprobe what an input holds before the converter decides which outputs to open. */
import { spawn } from 'node:child_process';
import { originalText, plainUrl } from '../egress/plainUrl.js';
import { SourceOpenError } from './errors.js';
import { withReadTimeout } from './ffmpegArgs.js';
import {
  PROTOCOL_WHITELIST,
  PROXIED_HTTP_WHITELIST,
  readsThroughProxy,
  type SourceKind,
} from './sourceKind.js';
import type { TrackInfo } from './types.js';

interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  sample_rate?: string;
  channels?: number;
  disposition?: { attached_pic?: number };
}

interface ProbeOutput {
  streams?: ProbeStream[];
  format?: { format_name?: string; duration?: string; start_time?: string };
}

export interface ProbeOptions {
  kind: SourceKind;
  /** Seconds before the probe gives up. */
  timeoutSeconds?: number;
  /** Extra input options placed before -i (e.g. an http proxy). */
  inputArgs?: string[];
  /** Aborting kills ffprobe (the stream is being stopped). */
  signal?: AbortSignal;
}

function parseRate(rate: string | undefined): number {
  if (!rate) return 0;
  const [num, den] = rate.split('/').map(Number);
  return den ? num / den : num || 0;
}

/** Reads the input's tracks with ffprobe; throws SourceOpenError with ffprobe's own words on failure. */
export async function probeInput(source: string, options: ProbeOptions): Promise<TrackInfo> {
  const first = await probeOnce(source, options, 2_000_000);
  // A live stream joined between key frames on a busy machine: its video track is listed (the
  // PMT names it) but FFmpeg had not seen enough of it in 2 s to know its size. That is not a
  // missing video (video.missing): look longer, once.
  if (first.unresolvedVideo && options.kind !== 'file')
    return (await probeOnce(source, options, 6_000_000)).tracks;
  return first.tracks;
}

/** ffprobe's arguments for one look at `source`; `window`: bytes and µs read of a live input. */
export function probeArgs(source: string, options: ProbeOptions, window = 2_000_000): string[] {
  const timeout = options.timeoutSeconds ?? 20;
  const live = options.kind !== 'file';
  const proxied = readsThroughProxy(options.inputArgs);
  const input = proxied ? plainUrl(source) : source;
  const timed = withReadTimeout(input, timeout);
  return [
    '-hide_banner',
    '-v',
    'error',
    '-protocol_whitelist',
    proxied ? PROXIED_HTTP_WHITELIST : PROTOCOL_WHITELIST[options.kind],
    // Live inputs: a shorter analysis window so a stream starts (and restarts) in about 2 s, and
    // a read timeout FFmpeg itself keeps (the probe must not outlive a worker that dies).
    ...(live ? [...timed.args, '-analyzeduration', String(window), '-probesize', String(window)] : []),
    ...(options.inputArgs ?? []),
    '-show_streams',
    '-show_format',
    '-of',
    'json',
    '-i',
    live ? timed.input : input,
  ];
}

function probeOnce(
  source: string,
  options: ProbeOptions,
  window: number,
): Promise<{ tracks: TrackInfo; unresolvedVideo: boolean }> {
  const timeout = options.timeoutSeconds ?? 20;
  const args = probeArgs(source, options, window);
  return new Promise((resolve, reject) => {
    const child = spawn('ffprobe', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    // Not niced like the decoders: an open is short, bounded by the worker's open gate, and a
    // probe starved by a busy machine is what keeps a burst of units opening for ever.
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => {
      if (err.length < 8192) err += b.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout * 1000 + 2000);
    const abort = () => child.kill('SIGKILL');
    options.signal?.addEventListener('abort', abort, { once: true });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new SourceOpenError(`cannot run ffprobe: ${e.message}`, source));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', abort);
      const reason = originalText(err.trim().split('\n').pop() ?? '');
      if (code !== 0) {
        const why = signal ? `no answer within ${timeout} s` : reason || `ffprobe exited with ${code}`;
        reject(new SourceOpenError(`cannot open ${source}: ${why}`, source));
        return;
      }
      let parsed: ProbeOutput;
      try {
        parsed = JSON.parse(Buffer.concat(out).toString()) as ProbeOutput;
      } catch {
        reject(new SourceOpenError(`cannot open ${source}: unreadable ffprobe output`, source));
        return;
      }
      const streams = parsed.streams ?? [];
      const pictures = streams.filter((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
      const v = pictures.find((s) => s.width);
      const a = streams.find((s) => s.codec_type === 'audio' && s.channels);
      if (!v && !a) {
        reject(new SourceOpenError(`cannot open ${source}: no audio or video track found`, source));
        return;
      }
      const duration = Number(parsed.format?.duration);
      const unresolvedVideo = !v && pictures.length > 0;
      resolve({
        unresolvedVideo,
        tracks: {
          video: v
            ? {
                codec: v.codec_name ?? 'unknown',
                width: v.width ?? 0,
                height: v.height ?? 0,
                frameRate: parseRate(v.avg_frame_rate) || parseRate(v.r_frame_rate),
              }
            : null,
          audio: a
            ? {
                codec: a.codec_name ?? 'unknown',
                sampleRate: Number(a.sample_rate) || 48000,
                channels: a.channels ?? 2,
              }
            : null,
          duration: Number.isFinite(duration) && duration > 0 ? duration : null,
          startTime: Number.isFinite(Number(parsed.format?.start_time))
            ? Number(parsed.format?.start_time)
            : null,
          formatName: parsed.format?.format_name ?? 'unknown',
        },
      });
    });
  });
}
