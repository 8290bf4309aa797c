/**
 * Credentials in stream URLs stay out of everything streamqc writes: logs, events, API answers,
 * metrics. A URL's password (`user:secret@`) and, for the protocols that carry tokens in their
 * query (signed CDN URLs, `?token=`, SRT's `passphrase=`), every query value are replaced by `***`,
 * wherever the URL appears: on its own or inside an error message.
 */

const MASK = '***';
/** A URL with a scheme, up to whitespace or a quote; punctuation that ends a sentence is not in it. */
const URL_IN_TEXT = /\b([a-z][a-z0-9+.-]*):\/\/[^\s"'<>]*[^\s"'<>.,:;)\]]/gi;
/** Schemes whose query strings carry secrets; udp/rtp queries are socket options. */
const QUERY_SECRET_SCHEMES = new Set(['http', 'https', 'rtmp', 'rtmps', 'rtsp', 'rtsps', 'srt']);

function redactOne(url: string, scheme: string): string {
  // user:password@ → user:***@ (the user name helps tell sources apart and is no secret).
  let out = url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i, `$1:${MASK}@`);
  if (QUERY_SECRET_SCHEMES.has(scheme.toLowerCase()))
    out = out.replace(/([?&][^=&#]*=)[^&#]*/g, (_m, name: string) => `${name}${MASK}`);
  return out;
}

/** Values read from a secret store (worker/agent/secrets.ts): masked wherever they appear. */
const secretValues = new Set<string>();
/** Shorter values are not masked as text (they would mask ordinary words); URLs still are. */
const MIN_MASKED_LENGTH = 4;

/** Masks `value` in everything this process writes from now on. */
export function maskValue(value: string): void {
  if (value.length < MIN_MASKED_LENGTH) return;
  secretValues.add(value);
  const encoded = encodeURIComponent(value);
  if (encoded !== value) secretValues.add(encoded);
}

/** The text with the credentials of every URL in it masked. */
export function redactUrls(text: string): string {
  let out = text;
  for (const value of secretValues) if (out.includes(value)) out = out.split(value).join(MASK);
  if (!out.includes('://')) return out;
  return out.replace(URL_IN_TEXT, (url, scheme: string) => redactOne(url, scheme));
}

/** A copy of a JSON-like value with every string's URL credentials masked. */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redactUrls(value) as T;
  if (Array.isArray(value)) return value.map(redactDeep) as T;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v);
    return out as T;
  }
  return value;
}
