/**
 * Which stream sources may be monitored. URLs are untrusted: only monitoring protocols are
 * allowed, and hosts are resolved and refused when any address is loopback (outside local
 * mode), private, link-local, CGNAT, unique-local, multicast-reserved or a cloud metadata
 * endpoint, in any spelling (decimal, hex, octal, and every IPv6 form that embeds an IPv4
 * address: mapped, compatible, translated, 6to4; Teredo and NAT64 are refused whole), unless an
 * allowed network covers it. The same check runs again at connect time in the worker's guard proxy.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import type { SecurityConfig } from './config.js';

export const ALLOWED_SCHEMES = [
  'http:',
  'https:',
  'rtmp:',
  'rtmps:',
  'srt:',
  'udp:',
  'rtp:',
  'rtsp:',
] as const;

/** A source we refuse; `code` is the API error code. */
export class UrlPolicyError extends Error {
  constructor(
    readonly code: 'url_invalid' | 'url_scheme' | 'url_forbidden' | 'url_unresolvable',
    message: string,
  ) {
    super(message);
    this.name = 'UrlPolicyError';
  }
}

const blocked = new BlockList();
// IPv4
blocked.addSubnet('0.0.0.0', 8, 'ipv4');
blocked.addSubnet('10.0.0.0', 8, 'ipv4');
blocked.addSubnet('100.64.0.0', 10, 'ipv4'); // CGNAT
blocked.addSubnet('169.254.0.0', 16, 'ipv4'); // link-local, incl. 169.254.169.254 and 169.254.170.2
blocked.addSubnet('172.16.0.0', 12, 'ipv4');
blocked.addSubnet('192.0.0.0', 24, 'ipv4');
blocked.addSubnet('192.168.0.0', 16, 'ipv4');
blocked.addSubnet('198.18.0.0', 15, 'ipv4');
blocked.addSubnet('224.0.0.0', 4, 'ipv4'); // multicast: allowed only through STREAMQC_ALLOWED_NETWORKS
blocked.addSubnet('240.0.0.0', 4, 'ipv4');
// IPv6
blocked.addAddress('::', 'ipv6');
blocked.addSubnet('fc00::', 7, 'ipv6'); // unique-local, incl. fd00:ec2::254
blocked.addSubnet('fe80::', 10, 'ipv6');
blocked.addSubnet('ff00::', 8, 'ipv6');
blocked.addSubnet('64:ff9b::', 96, 'ipv6'); // NAT64 can reach anything v4
blocked.addSubnet('64:ff9b:1::', 48, 'ipv6'); // local-use NAT64 (RFC 8215)
blocked.addSubnet('2001::', 32, 'ipv6'); // Teredo: tunnels to an (obfuscated) IPv4 address

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** The eight 16-bit groups of an IPv6 address (with or without an embedded dotted IPv4); null if not IPv6. */
function ipv6Groups(address: string): number[] | null {
  if (isIP(address) !== 6) return null;
  let text = address.toLowerCase().replace(/%.*$/, '');
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, null];
  const parse = (part: string) => (part ? part.split(':').map((h) => Number.parseInt(h, 16)) : []);
  const front = parse(head);
  const back = tail === null ? [] : parse(tail);
  const zeros = tail === null ? 0 : 8 - front.length - back.length;
  const groups = [...front, ...new Array(zeros).fill(0), ...back];
  return groups.length === 8 ? groups : null;
}

const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;

/**
 * The IPv4 address an IPv6 address embeds or maps to, so it is judged as that address:
 * IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d)
 * and 6to4 (2002:AABB:CCDD::). Teredo and NAT64 prefixes are refused as a whole (see above).
 */
export function embeddedIpv4(address: string): string | null {
  const g = ipv6Groups(address);
  if (!g) return null;
  const zero = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zero(0, 5) && (g[5] === 0xffff || g[5] === 0) && !(g[5] === 0 && zero(6, 7) && g[7] <= 1))
    return v4(g[6], g[7]);
  if (zero(0, 4) && g[4] === 0xffff && g[5] === 0) return v4(g[6], g[7]);
  if (g[0] === 0x2002) return v4(g[1], g[2]);
  return null;
}

/** Unwraps an IPv6 address that embeds an IPv4 address (see embeddedIpv4) to that address. */
export function unmapIpv6(address: string): string {
  return embeddedIpv4(address) ?? address;
}

/** True when the address may not be contacted under this configuration. */
export function isForbiddenAddress(address: string, config: SecurityConfig): boolean {
  const ip = unmapIpv6(address.replace(/^\[|\]$/g, ''));
  const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
  if (isIP(ip) === 0) return true;
  for (const cidr of config.allowedNetworks) {
    const [net, bits] = cidr.split('/');
    const allow = new BlockList();
    const netFamily = isIP(net) === 6 ? 'ipv6' : 'ipv4';
    allow.addSubnet(net, Number(bits), netFamily);
    if (netFamily === family && allow.check(ip, family)) return false;
  }
  if (loopback.check(ip, family)) return !config.localMode;
  return blocked.check(ip, family);
}

/**
 * Normalises a host the way browsers do for http: `2130706433`, `0x7f.1`, `0177.0.0.1` all become
 * `127.0.0.1`, for every scheme (WHATWG URL only does this for http-like schemes).
 */
export function normaliseHost(host: string): string {
  if (host.startsWith('[')) return host.slice(1, -1).toLowerCase();
  try {
    return new URL(`http://${host}/`).hostname.replace(/^\[|\]$/g, '');
  } catch {
    throw new UrlPolicyError('url_invalid', `invalid host "${host}"`);
  }
}

export interface CheckedSource {
  /** The source as given (what the user sees). */
  source: string;
  kind: 'file' | 'url';
  scheme?: string;
  host?: string;
  port?: number;
  /** Addresses the host resolved to, all allowed. */
  addresses: string[];
}

export type Resolver = (host: string) => Promise<string[]>;

const systemResolver: Resolver = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/**
 * Resolves a host to one address the policy allows, at connect time (the guard proxy, the
 * delivery monitor's client): rejects when any address it resolves to is forbidden, or none.
 */
export async function vetHost(
  host: string,
  config: SecurityConfig,
  resolve: Resolver = systemResolver,
): Promise<string> {
  const name = normaliseHost(host);
  const addresses = isIP(name) ? [name] : await resolve(name);
  const bad = addresses.find((a) => isForbiddenAddress(a, config));
  if (bad || addresses.length === 0) throw new Error(`refused ${host}: resolves to ${bad ?? 'nothing'}`);
  return addresses[0];
}

/** Checks a source against the policy; resolves with what it resolved to, or throws UrlPolicyError. */
export async function checkSource(
  source: string,
  config: SecurityConfig,
  resolve: Resolver = systemResolver,
): Promise<CheckedSource> {
  if (source.length > 2048) throw new UrlPolicyError('url_invalid', 'url longer than 2048 characters');
  if ([...source].some((c) => c.charCodeAt(0) <= 0x20 || c.charCodeAt(0) === 0x7f || /\s/.test(c))) {
    throw new UrlPolicyError('url_invalid', 'url contains whitespace or control characters');
  }
  const isPath = source.startsWith('/') || source.startsWith('./') || /^file:/i.test(source);
  if (isPath) {
    if (!(config.localMode && config.allowFiles)) {
      throw new UrlPolicyError(
        'url_scheme',
        'local files are only allowed in local mode with STREAMQC_ALLOW_FILES=1',
      );
    }
    if (source.includes('..')) throw new UrlPolicyError('url_invalid', 'file paths may not contain ".."');
    return { source, kind: 'file', addresses: [] };
  }
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    throw new UrlPolicyError('url_invalid', 'not a valid URL');
  }
  const scheme = url.protocol.toLowerCase();
  if (!(ALLOWED_SCHEMES as readonly string[]).includes(scheme)) {
    throw new UrlPolicyError(
      'url_scheme',
      `protocol ${scheme} is not allowed; use one of ${ALLOWED_SCHEMES.join(' ')}`,
    );
  }
  if (!url.hostname) throw new UrlPolicyError('url_invalid', 'URL has no host');
  const host = normaliseHost(url.hostname);
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  // RFC 6761: localhost names are loopback whatever a resolver says.
  else if (host === 'localhost' || host.endsWith('.localhost')) addresses = ['127.0.0.1', '::1'];
  else {
    try {
      addresses = await resolve(host);
    } catch {
      throw new UrlPolicyError('url_unresolvable', `host ${host} does not resolve`);
    }
    if (addresses.length === 0) throw new UrlPolicyError('url_unresolvable', `host ${host} does not resolve`);
  }
  const bad = addresses.find((a) => isForbiddenAddress(a, config));
  if (bad)
    throw new UrlPolicyError(
      'url_forbidden',
      `host ${host} resolves to ${bad}, a private, loopback or metadata address`,
    );
  if ((scheme === 'udp:' || scheme === 'rtp:') && !(config.allowPushSources ?? config.localMode))
    throw new UrlPolicyError(
      'url_scheme',
      `${scheme}// sources are pushed to a fixed address, and workers here have none (a task's address changes whenever its units move); use a pulled protocol (srt, rtmp, rtsp, http) or set STREAMQC_ALLOW_PUSH_SOURCES=1 where a fixed ingest address reaches the workers`,
    );
  return { source, kind: 'url', scheme, host, port: url.port ? Number(url.port) : undefined, addresses };
}
