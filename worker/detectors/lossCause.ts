/**
 * Why a source is lost, as a code an operator (or an inhibition rule) can act on without parsing
 * text: `stream.loss` carries it as `detail.cause` beside the human `detail.reason`.
 */

export const LOSS_CAUSES = [
  'connection_refused',
  'dns',
  'timeout',
  'http_status',
  'tls',
  'refused_by_policy',
  'secret',
  'playlist_ended',
  'not_media',
  'opening',
  'no_data',
  'other',
] as const;
export type LossCause = (typeof LOSS_CAUSES)[number];

/**
 * The cause of a loss from its reason (a Node or FFmpeg error, a policy refusal) — undefined
 * reason: media stopped arriving from a source that stays open (a UDP feed gone silent, a
 * playlist no longer updated), or, with `opening`, an open still waiting for an answer.
 */
export function lossCause(
  reason: string | undefined,
  opening = false,
): { cause: LossCause; status?: number } {
  if (reason === undefined) return { cause: opening ? 'opening' : 'no_data' };
  if (/certificate|self[- ]signed|CERT_/i.test(reason)) return { cause: 'tls' };
  if (/\bsecret\b/i.test(reason)) return { cause: 'secret' };
  if (
    /resolves to .*(private|loopback|metadata)|refused \S+: resolves to|not allowed; use one of|pushed to a fixed address/i.test(
      reason,
    )
  )
    return { cause: 'refused_by_policy' };
  if (/ECONNREFUSED|connection refused/i.test(reason)) return { cause: 'connection_refused' };
  if (/ENOTFOUND|EAI_AGAIN|does not resolve|Name or service not known|Failed to resolve/i.test(reason))
    return { cause: 'dns' };
  const status = /\b(?:HTTP(?: error)?|Server returned) (\d{3})\b/i.exec(reason);
  if (status) return { cause: 'http_status', status: Number(status[1]) };
  if (/timed? ?out|timeout|no answer within|not complete within|deadline/i.test(reason))
    return { cause: 'timeout' };
  if (/EXT-X-ENDLIST|playlist was closed|source ended/i.test(reason)) return { cause: 'playlist_ended' };
  if (/Invalid data|no audio or video track|not a playlist|not a DASH manifest|refused/i.test(reason))
    return { cause: 'not_media' };
  return { cause: 'other' };
}
