/** Classifies a source string (file path or URL) and picks the ffmpeg protocols it may use. */

export type SourceKind = 'file' | 'http' | 'rtmp' | 'srt' | 'udp' | 'rtp' | 'rtsp';

const SCHEME_KIND: Record<string, SourceKind> = {
  'file:': 'file',
  'http:': 'http',
  'https:': 'http',
  'rtmp:': 'rtmp',
  'rtmps:': 'rtmp',
  'srt:': 'srt',
  'udp:': 'udp',
  'rtp:': 'rtp',
  'rtsp:': 'rtsp',
};

/**
 * Protocols ffmpeg may open for each kind of source. A playlist fetched over http can then name
 * only http(s) segments: `file:` and every other protocol are refused by ffmpeg itself.
 */
export const PROTOCOL_WHITELIST: Record<SourceKind, string> = {
  file: 'file,crypto,data',
  http: 'http,https,tcp,tls,crypto,httpproxy,data',
  rtmp: 'rtmp,rtmps,tcp,tls',
  srt: 'srt',
  udp: 'udp',
  rtp: 'rtp,udp',
  rtsp: 'rtsp,rtp,udp,tcp,tls',
};

/**
 * What ffmpeg may open when it reads http(s) through the guard proxy: plain http only (https
 * URLs are mapped to the proxy, which verifies certificates; see plainUrl.ts). Without TLS and
 * CONNECT (`httpproxy`) in the list, ffmpeg cannot make an unverified TLS connection itself.
 */
export const PROXIED_HTTP_WHITELIST = 'http,tcp,crypto,data';

/** True when ffmpeg's input options send it through the guard proxy. */
export function readsThroughProxy(inputArgs: readonly string[] | undefined): boolean {
  return inputArgs?.includes('-http_proxy') ?? false;
}

/** Returns the kind of a source, or null when its scheme is not one we monitor. */
export function sourceKind(source: string): SourceKind | null {
  const match = /^([a-z][a-z0-9+.-]*):/i.exec(source);
  if (!match || /^[a-z]:[\\/]/i.test(source)) return 'file';
  return SCHEME_KIND[`${match[1].toLowerCase()}:`] ?? null;
}

/** True for sources that arrive in real time (everything but files). */
export function isLiveKind(kind: SourceKind): boolean {
  return kind !== 'file';
}

/**
 * True for sources that arrive a segment at a time (HLS over http(s)): bursts with waits between
 * them, and a restarted reader re-reads the live window.
 */
export function isSegmentedKind(kind: SourceKind): boolean {
  return kind === 'http';
}
