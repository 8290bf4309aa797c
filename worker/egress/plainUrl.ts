/**
 * https sources are read by ffmpeg as plain http through the guard proxy, which makes the TLS
 * connection itself with Node's verifying client: FFmpeg's own `-tls_verify` covers the first
 * request only (its HLS reader opens segments without the TLS options), so certificate checks
 * cannot be left to it.
 *
 * An https URL is written for ffmpeg as an http URL on a `.invalid` host (RFC 6761: it names
 * nothing on any network) that carries the real host and port: `https://cdn.example/a/b.m3u8`
 * becomes `http://cdn.example.tls.streamqc.invalid:443/a/b.m3u8`. Relative and root-relative
 * references in a playlist then resolve to the same mapped origin, and the proxy turns the host
 * back into the real one.
 */
import { isIP } from 'node:net';

export const TLS_SUFFIX = '.tls.streamqc.invalid';
const IPV6_PREFIX = 'i6-';

/** `host[:port]` of an https authority as the mapped http authority. */
function mapHostPort(hostPort: string): string {
  let host: string;
  let port: string;
  const v6 = /^\[([^\]]+)\](?::(\d*))?$/.exec(hostPort);
  if (v6) {
    host = `${IPV6_PREFIX}${v6[1].replace(/:/g, '-').replace(/%.*$/, '')}`;
    port = v6[2] || '443';
  } else {
    const at = hostPort.lastIndexOf(':');
    host = at === -1 ? hostPort : hostPort.slice(0, at);
    port = at === -1 ? '443' : hostPort.slice(at + 1) || '443';
  }
  return `${host.toLowerCase()}${TLS_SUFFIX}:${port}`;
}

/** The URL ffmpeg is given for a source (https mapped as above; anything else unchanged). */
export function plainUrl(url: string): string {
  const match = /^https:\/\/([^/?#]*)(.*)$/is.exec(url);
  if (!match) return url;
  const authority = match[1];
  const at = authority.lastIndexOf('@');
  const userinfo = at === -1 ? '' : authority.slice(0, at + 1);
  return `http://${userinfo}${mapHostPort(authority.slice(at + 1))}${match[2]}`;
}

/** Every absolute https URL in a document (playlist, MPD) mapped for ffmpeg. */
export function plainDocument(text: string): string {
  return text.replace(/https:\/\/[^/\s"'<>?#]*/gi, (m) => plainUrl(`https://${m.slice(8)}`));
}

/** The real host of a mapped hostname, or null when the hostname is not a mapped one. */
export function tlsHost(hostname: string): string | null {
  const name = hostname.toLowerCase();
  if (!name.endsWith(TLS_SUFFIX)) return null;
  const host = name.slice(0, -TLS_SUFFIX.length);
  if (!host.startsWith(IPV6_PREFIX)) return host;
  const v6 = host.slice(IPV6_PREFIX.length).replace(/-/g, ':');
  return isIP(v6) === 6 ? v6 : null;
}

/** The URL a user knows for a mapped one (https again); other URLs unchanged. */
export function originalUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  const host = tlsHost(parsed.hostname);
  if (parsed.protocol !== 'http:' || host === null) return url;
  const name = isIP(host) === 6 ? `[${host}]` : host;
  const port = parsed.port && parsed.port !== '443' ? `:${parsed.port}` : '';
  const userinfo = parsed.username
    ? `${parsed.username}${parsed.password ? `:${parsed.password}` : ''}@`
    : '';
  return `https://${userinfo}${name}${port}${parsed.pathname}${parsed.search}${parsed.hash}`;
}

/** A text from ffmpeg (an error line) with its mapped URLs shown as the https URLs they stand for. */
export function originalText(text: string): string {
  if (!text.includes(TLS_SUFFIX)) return text;
  return text.replace(/http:\/\/[^\s'"<>]+/gi, (m) => originalUrl(m));
}
