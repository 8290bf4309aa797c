/**
 * DASH manifests for the ladder monitor: an MPD read with mpd-parser into the same shape as an
 * HLS media playlist (segments with a sequence number, URI, duration and initialization
 * section), one per video Representation, and the HLS playlists the decoder is given instead of
 * the MPD. FFmpeg's own DASH reader runs ahead of a live edge (it asks the origin for segments
 * that do not exist yet, many times a second), which would read as a storm of segment errors;
 * its HLS reader, given the same fMP4 segments in a media playlist, reads only what is listed.
 */
import { DOMParser } from '@xmldom/xmldom';
import { inheritAttributes, type MpdPlaylist, toPlaylists } from 'mpd-parser';
import type { RenditionRef } from '../../shared/events.js';
import { FetchError } from './guardedGet.js';
import type { SegmentInfo } from './LadderMonitor.js';

export interface DashRepresentation {
  id: string;
  ref: RenditionRef;
  /** Start of the Period it is listed in, seconds: another Period is a new timeline. */
  periodStart: number;
  segments: SegmentInfo[];
}

export interface DashManifest {
  /** `type="dynamic"`: live, the MPD is reloaded. */
  dynamic: boolean;
  publishTime: string | null;
  /** MPD@minimumUpdatePeriod, seconds (0: not given). */
  updatePeriod: number;
  /** MPD@maxSegmentDuration, or the longest segment listed: the DASH counterpart of a target duration. */
  targetDuration: number;
  /** MPD@maxSegmentDuration, seconds, when given. */
  maxSegmentDuration: number | null;
  video: DashRepresentation[];
  audio: DashRepresentation[];
}

/** True when the start of a body looks like an MPD rather than a playlist or media. */
export function looksLikeMpd(first: Buffer): boolean {
  const head = first
    .subarray(0, 512)
    .toString('utf8')
    .replace(/^\uFEFF/, '');
  return /^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*<MPD[\s>]/.test(head);
}

/** ISO 8601 durations as MPDs write them (`PT2S`, `PT1M0.5S`, `P1DT2H`), in seconds. */
export function isoSeconds(text: string | undefined): number | null {
  if (!text) return null;
  const m =
    /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(
      text.trim(),
    );
  if (!m) return null;
  const [d, h, min, s] = m.slice(1).map((x) => Number(x ?? 0));
  return d * 86400 + h * 3600 + min * 60 + s;
}

/** A representation's URI in events: the MPD's, with the Representation id as fragment. */
export function representationUri(mpdUrl: string, id: string): string {
  const url = new URL(mpdUrl);
  url.hash = `representation=${encodeURIComponent(id)}`;
  return url.href;
}

function kindOf(p: MpdPlaylist): 'video' | 'audio' | 'other' {
  const type = `${p.attributes.contentType ?? ''} ${p.attributes.mimeType ?? ''}`;
  if (/video/.test(type)) return 'video';
  if (/audio/.test(type)) return 'audio';
  return 'other';
}

/**
 * The MPD element of a document. xmldom (mpd-parser's own XML parser) expands no entity a DTD
 * declares and fetches nothing; what it complains of is kept out of the logs (it would print to
 * the console) and only a document that is not an MPD is refused.
 */
function mpdElement(text: string): unknown {
  let fatal: string | null = null;
  const parser = new DOMParser({
    errorHandler: {
      warning: () => {},
      error: () => {},
      fatalError: (message: string) => {
        fatal ??= message;
      },
    },
  });
  const root = parser.parseFromString(text, 'application/xml')?.documentElement;
  if (root?.tagName !== 'MPD') throw new Error(fatal ?? 'the document is not an MPD');
  return root;
}

/** Parses an MPD (`url`: where it was loaded from, for relative URLs). Throws on anything else. */
export function parseMpd(text: string, url: string): DashManifest {
  let playlists: MpdPlaylist[];
  try {
    playlists = toPlaylists(inheritAttributes(mpdElement(text), { manifestUri: url }).representationInfo);
  } catch (e) {
    throw new FetchError(`not a DASH manifest (${(e as Error).message})`, url);
  }
  // The newest Period is the live edge; a representation listed in several keeps its latest.
  const latest = new Map<string, MpdPlaylist>();
  for (const p of playlists) {
    const key = `${kindOf(p)}/${p.attributes.id ?? ''}`;
    const known = latest.get(key);
    if (!known || (p.attributes.periodStart ?? 0) >= (known.attributes.periodStart ?? 0)) latest.set(key, p);
  }
  const describe = (p: MpdPlaylist): DashRepresentation => {
    const id = String(p.attributes.id ?? '');
    const { width, height, lang } = p.attributes;
    return {
      id,
      ref: {
        uri: representationUri(url, id),
        bandwidth: Number(p.attributes.bandwidth ?? 0),
        ...(width && height ? { resolution: `${width}x${height}` } : {}),
        ...(kindOf(p) === 'audio' ? { type: 'audio' as const } : {}),
        ...(typeof lang === 'string' && lang ? { language: lang } : {}),
      },
      periodStart: p.attributes.periodStart ?? 0,
      segments: p.segments.map((s) => ({
        msn: s.number,
        uri: s.resolvedUri,
        duration: s.duration,
        discontinuity: 0,
        start: s.presentationTime,
        ...(s.map?.resolvedUri ? { map: s.map.resolvedUri } : {}),
      })),
    };
  };
  const all = [...latest.values()];
  const video = all.filter((p) => kindOf(p) === 'video').map(describe);
  const audio = all.filter((p) => kindOf(p) === 'audio').map(describe);
  if (video.length === 0 && audio.length === 0) throw new FetchError('the MPD lists no audio or video', url);
  const first = all[0].attributes;
  const maxSegmentDuration = isoSeconds(first.maxSegmentDuration);
  const longest = Math.max(0, ...[...video, ...audio].flatMap((r) => r.segments.map((s) => s.duration)));
  return {
    dynamic: first.type === 'dynamic',
    publishTime: first.publishTime ?? null,
    updatePeriod: Number(first.minimumUpdatePeriod ?? 0),
    maxSegmentDuration,
    targetDuration: maxSegmentDuration ?? longest,
    video,
    audio,
  };
}

/** An HLS media playlist listing a representation's segments (fMP4, with its initialization section). */
export function hlsMediaPlaylist(rep: DashRepresentation, ended: boolean): string {
  const segments = rep.segments;
  const target = Math.max(1, Math.ceil(Math.max(0, ...segments.map((s) => s.duration))));
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    `#EXT-X-TARGETDURATION:${target}`,
    `#EXT-X-MEDIA-SEQUENCE:${segments[0]?.msn ?? 0}`,
  ];
  let map: string | undefined;
  for (const s of segments) {
    if (s.map && s.map !== map) {
      lines.push(`#EXT-X-MAP:URI="${s.map}"`);
      map = s.map;
    }
    lines.push(`#EXTINF:${s.duration.toFixed(6)},`, s.uri);
  }
  if (ended) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}

/** The multivariant playlist the decoder opens: one picture rendition, sound as its audio group. */
export function hlsMasterPlaylist(video: DashRepresentation | null, hasAudio: boolean): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7'];
  if (hasAudio)
    lines.push(
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="audio",DEFAULT=YES,AUTOSELECT=YES,URI="audio.m3u8"',
    );
  const bandwidth = Math.max(1, video?.ref.bandwidth ?? 1);
  lines.push(`#EXT-X-STREAM-INF:BANDWIDTH=${bandwidth}${hasAudio ? ',AUDIO="audio"' : ''}`);
  lines.push(video ? 'video.m3u8' : 'audio.m3u8');
  return `${lines.join('\n')}\n`;
}
