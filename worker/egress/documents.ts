/**
 * What the guard proxy reads of the documents it passes on: which responses are playlists or MPDs
 * (read whole, their https URLs mapped for ffmpeg) and a master playlist's variant URIs (to refuse
 * masters that lead back to themselves). A line scan, not a parser: the delivery monitor parses
 * playlists properly, in its sandbox; this only needs `#EXT-X-STREAM-INF` and the line after it.
 */

/** Playlists and MPDs larger than this are refused by the proxy (the sandbox refuses them too). */
export const MAX_DOCUMENT_BYTES = 4 << 20;

/** Variant URIs of a master playlist (absolute), or null when the text is not a master. */
export function masterVariants(text: string, base: string): string[] | null {
  if (!text.startsWith('#EXTM3U') || !text.includes('#EXT-X-STREAM-INF')) return null;
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  const out: string[] = [];
  lines.forEach((line, i) => {
    if (line.startsWith('#EXT-X-STREAM-INF') && lines[i + 1] && !lines[i + 1].startsWith('#')) {
      try {
        out.push(new URL(lines[i + 1], base).href);
      } catch {
        // not a URL: FFmpeg will fail on it by itself
      }
    }
  });
  return out;
}

/** An HLS playlist, by its path or content type. */
export function isPlaylist(target: URL, type: string | undefined): boolean {
  return /\.m3u8?$/i.test(target.pathname) || /mpegurl/i.test(type ?? '');
}

/** A DASH MPD: read whole so its https URLs can be mapped for ffmpeg. */
export function isMpd(target: URL, type: string | undefined): boolean {
  return /\.mpd$/i.test(target.pathname) || /dash\+xml/i.test(type ?? '');
}
