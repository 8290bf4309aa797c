/** `stream.loss` says why as a code (`detail.cause`): classified from the errors Node and FFmpeg really give. */
import { describe, expect, it } from 'vitest';
import { lossCause } from '../../../worker/detectors/lossCause.js';

describe('the cause of a loss', () => {
  const cases: [string | undefined, boolean, ReturnType<typeof lossCause>][] = [
    [
      'cannot load the playlist: connect ECONNREFUSED 127.0.0.1:41235 (http://127.0.0.1:41235/live.m3u8)',
      false,
      { cause: 'connection_refused' },
    ],
    ['cannot open udp://x: Connection refused', false, { cause: 'connection_refused' }],
    [
      'cannot load the playlist: getaddrinfo ENOTFOUND cdn.example (https://cdn.example/a.m3u8)',
      false,
      { cause: 'dns' },
    ],
    ['host cdn.nx does not resolve', false, { cause: 'dns' }],
    ['cannot load the playlist: HTTP 503 (http://o/live.m3u8)', false, { cause: 'http_status', status: 503 }],
    [
      'cannot open http://o/x.ts: Server returned 404 Not Found',
      false,
      { cause: 'http_status', status: 404 },
    ],
    ['cannot open http://o/x.m3u8: HTTP error 403 Forbidden', false, { cause: 'http_status', status: 403 }],
    [
      'cannot load the playlist: response headers not complete within 10 s (http://o/a.m3u8)',
      false,
      { cause: 'timeout' },
    ],
    ['cannot open srt://o:9000: Connection timed out', false, { cause: 'timeout' }],
    ['TLS certificate of 127.0.0.1 not accepted: self-signed certificate', false, { cause: 'tls' }],
    [
      'host evil.example resolves to 169.254.169.254, a private, loopback or metadata address',
      false,
      { cause: 'refused_by_policy' },
    ],
    ['refused metadata.example: resolves to 169.254.169.254', false, { cause: 'refused_by_policy' }],
    [
      "secret streamqc/cdn is not tagged streamqc:owner with this stream's owner; it is not used",
      false,
      { cause: 'secret' },
    ],
    ['the source ended: the playlist was closed (EXT-X-ENDLIST)', false, { cause: 'playlist_ended' }],
    ['cannot open http://o/a.bin: Invalid data found when processing input', false, { cause: 'not_media' }],
    [undefined, true, { cause: 'opening' }],
    [undefined, false, { cause: 'no_data' }],
    ['something nobody foresaw', false, { cause: 'other' }],
  ];
  for (const [reason, opening, expected] of cases)
    it(`${expected.cause}${expected.status ? ` ${expected.status}` : ''}: ${reason ?? (opening ? 'an open still waiting' : 'media stopped')}`, () => {
      expect(lossCause(reason, opening)).toEqual(expected);
    });
});
