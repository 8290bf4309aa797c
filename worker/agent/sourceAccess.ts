/**
 * How a unit's decoder reaches its source at one open: secret references filled (each open, so a
 * rotated secret is used after a restart), the address checked against the source policy, and
 * then either the stream's guard-proxy route (http and https: every request re-checked, https
 * verified by the proxy) or, for other protocols, the vetted address pinned into the URL.
 */
import type { SecurityConfig } from '../../shared/config.js';
import { secretRefs } from '../../shared/secretRefs.js';
import type { StreamRecord } from '../../shared/streamSpec.js';
import { checkSource, UrlPolicyError } from '../../shared/urlPolicy.js';
import type { SourceKind } from '../converter/sourceKind.js';
import type { Exchange, GuardProxy } from '../egress/GuardProxy.js';
import { SecretError, type SecretResolver } from './secrets.js';

export interface SourceAccess {
  /** What the decoder opens (the URL, secrets filled; a pinned address for non-http sources). */
  source: string;
  /** ffmpeg input options (the guard proxy for http). */
  inputArgs: string[];
}

/** A refusal the unit waits out (backs off and says why), as opposed to a failure of the worker. */
export function isSourceRefusal(e: unknown): e is UrlPolicyError | SecretError {
  return e instanceof UrlPolicyError || e instanceof SecretError;
}

/** Rewrites a URL's host to a vetted address so ffmpeg cannot resolve it to something else later. */
function pinHost(source: string, address: string): string {
  const url = new URL(source);
  url.hostname = address.includes(':') ? `[${address}]` : address;
  return url.toString();
}

/** Prepares one open; rejects with a refusal (isSourceRefusal) when the source may not be read. */
export async function openSourceAccess(o: {
  stream: StreamRecord;
  unitId: string;
  kind: SourceKind;
  /** This stream's view of the policy (its `verifyTls`). */
  security: SecurityConfig;
  secrets?: Pick<SecretResolver, 'resolve'>;
  proxy: Pick<GuardProxy, 'open' | 'watch' | 'serve'>;
  /** Where the route reports downloads and finds the stream's own documents. */
  downloads: (exchange: Exchange) => void;
  documents: (path: string) => string | null;
}): Promise<SourceAccess> {
  let url = o.stream.url;
  if (secretRefs(url).length > 0) {
    if (!o.secrets) throw new SecretError('this worker has no secret store for {{secret:…}} references');
    url = await o.secrets.resolve(url, o.stream.owner);
  }
  const checked = await checkSource(url, o.security);
  if (o.kind === 'http') {
    const route = await o.proxy.open(o.unitId, { verifyTls: o.security.verifyTls });
    o.proxy.watch(o.unitId, o.downloads);
    o.proxy.serve(o.unitId, o.documents);
    return { source: url, inputArgs: ['-http_proxy', route] };
  }
  if (checked.kind === 'url' && checked.addresses[0])
    return { source: pinHost(url, checked.addresses[0]), inputArgs: [] };
  return { source: url, inputArgs: [] };
}
