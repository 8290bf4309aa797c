/**
 * HLS playlists read with hls-parser into plain data (no parser classes: the result crosses from
 * the parsing thread, see ManifestSandbox), every URI made absolute against where the playlist
 * was loaded from.
 */
import HLS from 'hls-parser';
import { ManifestRefused } from './guardedGet.js';
import { MAX_SEGMENTS_KEPT, type SegmentCue, type SegmentInfo } from './segments.js';

HLS.setOptions({ silent: true });

/** Variants listed by one multivariant playlist, at most (the monitor watches a dozen). */
export const MAX_VARIANTS_LISTED = 10_000;

export interface HlsAudioRendition {
  uri: string;
  isDefault: boolean;
  language?: string;
  name?: string;
}

export interface HlsVariant {
  uri: string;
  bandwidth: number;
  resolution?: string;
  audio: HlsAudioRendition[];
}

export interface HlsMaster {
  kind: 'master';
  /** Variants with a URI, I-frame-only ones left out. */
  variants: HlsVariant[];
}

export interface HlsMedia {
  kind: 'media';
  segments: SegmentInfo[];
  /** Segments the playlist listed (more than `segments` when only the newest were kept). */
  listed: number;
  targetDuration: number;
  endlist: boolean;
  /** The media sequence number of the first segment (EXT-X-MEDIA-SEQUENCE). */
  mediaSequenceBase: number;
}

/** Parses an HLS playlist loaded from `base`. Throws on what is not one. */
export function parseHls(text: string, base: string): HlsMaster | HlsMedia {
  const playlist = HLS.parse(text);
  const absolute = (uri: string) => new URL(uri, base).href;
  if (playlist.isMasterPlaylist) {
    const listed = playlist.variants.filter((v) => !v.isIFrameOnly && v.uri);
    if (listed.length > MAX_VARIANTS_LISTED)
      throw new ManifestRefused(
        `manifest refused: ${listed.length} variants (limit ${MAX_VARIANTS_LISTED})`,
        base,
        `${MAX_VARIANTS_LISTED} variants`,
      );
    return {
      kind: 'master',
      variants: listed.map((v) => ({
        uri: absolute(v.uri),
        bandwidth: v.bandwidth,
        ...(v.resolution ? { resolution: `${v.resolution.width}x${v.resolution.height}` } : {}),
        audio: v.audio
          .filter((a) => a.uri)
          .map((a) => ({
            uri: absolute(a.uri as string),
            isDefault: a.isDefault,
            ...(a.language ? { language: a.language } : {}),
            ...(a.name ? { name: a.name } : {}),
          })),
      })),
    };
  }
  const all = playlist.segments;
  const kept = all.length > MAX_SEGMENTS_KEPT ? all.slice(all.length - MAX_SEGMENTS_KEPT) : all;
  return {
    kind: 'media',
    segments: kept.map((s) => ({
      msn: s.mediaSequenceNumber,
      uri: absolute(s.uri),
      duration: s.duration,
      discontinuity: s.discontinuitySequence,
      ...(s.map?.uri ? { map: absolute(s.map.uri) } : {}),
      ...cueOf(s),
    })),
    listed: all.length,
    targetDuration: playlist.targetDuration,
    endlist: playlist.endlist,
    mediaSequenceBase: playlist.mediaSequenceBase ?? 0,
  };
}

/**
 * The ad-break cue a segment carries: EXT-X-CUE-OUT[:duration] / EXT-X-CUE-IN (hls-parser's
 * markers; EXT-X-CUE-OUT-CONT only repeats a break already open), or an EXT-X-DATERANGE with
 * SCTE35-OUT (PLANNED-DURATION or DURATION) / SCTE35-IN.
 */
function cueOf(s: HLS.types.Segment): { cue?: SegmentCue } {
  for (const m of s.markers ?? []) {
    if (m.type === 'OUT')
      return { cue: { kind: 'out', tag: 'EXT-X-CUE-OUT', ...(m.duration ? { duration: m.duration } : {}) } };
    if (m.type === 'IN') return { cue: { kind: 'in', tag: 'EXT-X-CUE-IN' } };
  }
  const range = s.dateRange;
  const attributes = (range?.attributes ?? {}) as Record<string, unknown>;
  if (range && attributes['SCTE35-OUT'] !== undefined) {
    const duration = range.plannedDuration ?? range.duration;
    return { cue: { kind: 'out', tag: 'EXT-X-DATERANGE', id: range.id, ...(duration ? { duration } : {}) } };
  }
  if (range && attributes['SCTE35-IN'] !== undefined)
    return { cue: { kind: 'in', tag: 'EXT-X-DATERANGE', id: range.id } };
  return {};
}
