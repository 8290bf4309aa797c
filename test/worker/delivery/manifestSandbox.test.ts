/**
 * The parsing sandbox: a document that would take the worker's memory or time ends only its own
 * parsing process and is refused with the limit it hit; the next document parses in a fresh one;
 * the same document is not parsed again while its URL cools down. Real processes, real limits.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManifestRefused } from '../../../worker/delivery/guardedGet.js';
import { ManifestSandbox, PARSE_LIMITS } from '../../../worker/delivery/ManifestSandbox.js';
import { MAX_SEGMENTS_KEPT } from '../../../worker/delivery/segments.js';

/** A media playlist of `n` two-second segments. */
function playlist(n: number): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:2', '#EXT-X-MEDIA-SEQUENCE:100'];
  for (let i = 0; i < n; i++) lines.push('#EXTINF:2.000,', `seg${100 + i}.ts`);
  return `${lines.join('\n')}\n`;
}

let sandbox: ManifestSandbox | null = null;
afterEach(async () => {
  await sandbox?.close();
  sandbox = null;
});

describe('manifest sandbox', () => {
  it('parses a playlist into plain data, URIs absolute, keeping the newest segments of a huge one', async () => {
    sandbox = new ManifestSandbox();
    const small = await sandbox.parse({
      kind: 'hls',
      text: playlist(3),
      url: 'http://o.example/live/v.m3u8',
    });
    expect(small).toMatchObject({ kind: 'media', listed: 3, targetDuration: 2, endlist: false });
    if (small.kind !== 'media') throw new Error('not media');
    expect(small.segments[0]).toEqual({
      msn: 100,
      uri: 'http://o.example/live/seg100.ts',
      duration: 2,
      discontinuity: 0,
    });
    const big = await sandbox.parse({ kind: 'hls', text: playlist(40_000), url: 'http://o.example/v.m3u8' });
    if (big.kind !== 'media') throw new Error('not media');
    expect(big.listed).toBe(40_000);
    expect(big.segments.length).toBe(MAX_SEGMENTS_KEPT);
    expect(big.segments.at(-1)?.msn).toBe(100 + 40_000 - 1);
  }, 60_000);

  it('a document past the heap cap ends its parsing process, not the worker; refused with the limit, then cooled down', async () => {
    sandbox = new ManifestSandbox({ ...PARSE_LIMITS, heapMb: 24 });
    const heapBefore = process.memoryUsage().heapUsed;
    const huge = playlist(150_000);
    const refused = await sandbox
      .parse({ kind: 'hls', text: huge, url: 'http://o.example/bomb.m3u8' })
      .catch((e) => e);
    expect(refused).toBeInstanceOf(ManifestRefused);
    expect(refused.message).toBe('manifest refused: parsing needed more than 24 MB');
    expect(sandbox.killed).toBe(1);
    // The worker's own heap did not carry the parse.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
    // The same URL is not parsed again for a while, however small its next document.
    const again = await sandbox
      .parse({ kind: 'hls', text: playlist(2), url: 'http://o.example/bomb.m3u8' })
      .catch((e) => e);
    expect(again).toBeInstanceOf(ManifestRefused);
    expect(again.message).toMatch(/ended its parser \d+ s ago; parsed again in \d+ s/);
    // Any other document parses, in a fresh process.
    const other = await sandbox.parse({ kind: 'hls', text: playlist(2), url: 'http://o.example/ok.m3u8' });
    expect(other.kind).toBe('media');
  }, 60_000);

  it('a document that parses past the deadline is refused; parses queued behind it still answer', async () => {
    sandbox = new ManifestSandbox({ ...PARSE_LIMITS, deadlineMs: 50, processes: 1 });
    const slow = sandbox.parse({ kind: 'hls', text: playlist(100_000), url: 'http://o.example/slow.m3u8' });
    const next = sandbox.parse({ kind: 'hls', text: playlist(2), url: 'http://o.example/next.m3u8' });
    await expect(slow).rejects.toThrow('manifest refused: parsing took longer than 0.05 s');
    expect((await next).kind).toBe('media');
  }, 60_000);

  it('what is not a playlist or an MPD is an ordinary load error, not a refusal', async () => {
    sandbox = new ManifestSandbox();
    const error = await sandbox
      .parse({ kind: 'mpd', text: '<html/>', url: 'http://o.example/x.mpd' })
      .catch((e) => e);
    expect(error.message).toMatch(/not a DASH manifest/);
    expect(error).not.toBeInstanceOf(ManifestRefused);
    expect(sandbox.killed).toBe(0);
  }, 30_000);
});
