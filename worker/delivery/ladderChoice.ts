/**
 * Which renditions of a ladder are watched and which one is decoded: the highest bandwidth (or
 * the lowest, for cost), the renditions nearest it in bandwidth up to MAX_RENDITIONS, and the
 * decoded variant's sound when it is a rendition of its own.
 */
import type { RenditionRef } from '../../shared/events.js';
import type { Logger } from '../../shared/logger.js';
import type { HlsVariant } from './hlsPlaylist.js';

/** Renditions watched at most (the decoded one and those nearest it in bandwidth): a hostile master cannot fan out. */
export const MAX_RENDITIONS = 12;
/** Audio renditions watched at most (the decoded one first, then as listed). */
export const MAX_AUDIO_RENDITIONS = 4;

/** The ladder's renditions as open() found them: pictures (a ladder) and separate sound. */
export interface LadderRefs {
  video: RenditionRef[];
  /** Index of the decoded picture rendition in `video`. */
  decoded: number;
  audio: RenditionRef[];
  /** Index of the decoded sound rendition in `audio` (-1: sound is muxed, or not chosen here). */
  decodedAudio: number;
}

/** The rendition to decode: the highest bandwidth, or the lowest for cost. */
export function pickDecoded(refs: RenditionRef[], decode: 'top' | 'lowest'): number {
  const order = refs.map((_, i) => i).sort((a, b) => refs[a].bandwidth - refs[b].bandwidth);
  return decode === 'lowest' ? order[0] : order[order.length - 1];
}

/** The renditions watched: the decoded one and those nearest it in bandwidth, MAX_RENDITIONS at most. */
export function watchedRenditions(refs: RenditionRef[], decoded: number, logger: Logger): number[] {
  const kept = refs
    .map((_, i) => i)
    .filter((i) => i !== decoded)
    .sort(
      (a, b) =>
        Math.abs(refs[a].bandwidth - refs[decoded].bandwidth) -
        Math.abs(refs[b].bandwidth - refs[decoded].bandwidth),
    )
    .slice(0, MAX_RENDITIONS - 1);
  const watched = refs.map((_, i) => i).filter((i) => i === decoded || kept.includes(i));
  if (watched.length < refs.length)
    logger.warn(
      { listed: refs.length, watched: watched.length },
      'ladder too large; watching the renditions nearest the decoded one',
    );
  return watched;
}

/**
 * The sound renditions (`EXT-X-MEDIA` TYPE=AUDIO with a URI) of a multivariant playlist, the
 * decoded variant's group first; the one decoded is that group's DEFAULT (else its first).
 */
export function audioRenditions(
  variants: HlsVariant[],
  decoded: number,
): { refs: RenditionRef[]; decoded: number } {
  const own = variants[decoded].audio;
  const chosen = own.find((a) => a.isDefault) ?? own[0];
  const listed = [...(chosen ? [chosen] : []), ...own, ...variants.flatMap((v) => v.audio)];
  const refs: RenditionRef[] = [];
  for (const a of listed) {
    const uri = a.uri;
    if (refs.some((r) => r.uri === uri)) continue;
    refs.push({
      uri,
      bandwidth: 0,
      type: 'audio',
      ...(a.language ? { language: a.language } : {}),
      ...(a.name ? { name: a.name } : {}),
    });
  }
  return { refs: refs.slice(0, MAX_AUDIO_RENDITIONS), decoded: chosen ? 0 : -1 };
}

/** A multivariant playlist of one picture rendition and its sound (absolute URIs: the source's). */
export function hlsPairPlaylist(video: RenditionRef, audio: RenditionRef): string {
  const quoted = (text: string) => text.replace(/["\r\n]/g, '');
  return [
    '#EXTM3U',
    `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="${quoted(audio.name ?? 'audio')}",DEFAULT=YES,AUTOSELECT=YES,URI="${quoted(audio.uri)}"`,
    `#EXT-X-STREAM-INF:BANDWIDTH=${Math.max(1, video.bandwidth)},AUDIO="audio"`,
    video.uri,
    '',
  ].join('\n');
}
