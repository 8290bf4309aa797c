/**
 * HLS playlists read with hls-parser into plain data (no parser classes: the result crosses from
 * the parsing thread, see ManifestSandbox), every URI made absolute against where the playlist
 * was loaded from.
 */
import HLS from 'hls-parser';
import { decodeCueText } from '../transport/scte35.js';
import { ManifestRefused } from './guardedGet.js';
import { sectionCue } from './sectionCue.js';
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
 * markers; EXT-X-CUE-OUT-CONT only repeats a break already open); an EXT-X-DATERANGE with
 * SCTE35-OUT (PLANNED-DURATION or DURATION) / SCTE35-IN, or SCTE35-CMD (the cue decides); a
 * splice_info_section in EXT-X-SCTE35 (`CUE="…"`) or EXT-OATCLS-SCTE35. SCTE-35 bytes that are
 * present are decoded: a cue that cannot be read is `invalid`, with the reason.
 */
function cueOf(s: HLS.types.Segment): { cue?: SegmentCue } {
  for (const m of s.markers ?? []) {
    if (m.type === 'OUT')
      return { cue: { kind: 'out', tag: 'EXT-X-CUE-OUT', ...(m.duration ? { duration: m.duration } : {}) } };
    if (m.type === 'IN') return { cue: { kind: 'in', tag: 'EXT-X-CUE-IN' } };
    if (m.type === 'RAW' && (m.tagName === 'EXT-X-SCTE35' || m.tagName === 'EXT-OATCLS-SCTE35')) {
      const text =
        m.tagName === 'EXT-X-SCTE35' ? /(?:^|,)CUE="?([^",]+)"?/.exec(m.value ?? '')?.[1] : m.value;
      const cue = text ? sectionCue(m.tagName, () => decodeCueText(text)) : undefined;
      if (cue) return { cue };
    }
  }
  const range = s.dateRange;
  if (!range) return {};
  const attributes = (range.attributes ?? {}) as Record<string, unknown>;
  const bytes = (key: string) => () => toBytes(attributes[key]);
  for (const key of ['SCTE35-OUT', 'SCTE35-IN', 'SCTE35-CMD']) {
    if (attributes[key] === undefined) continue;
    const cue = sectionCue('EXT-X-DATERANGE', bytes(key), { id: range.id });
    if (key === 'SCTE35-CMD') return cue ? { cue } : {};
    // The attribute names the direction (bytes that cannot be read are reported, not obeyed).
    const unreadable = cue?.kind === 'invalid' ? { reason: cue.reason } : {};
    if (key === 'SCTE35-IN')
      return { cue: { kind: 'in', tag: 'EXT-X-DATERANGE', id: range.id, ...unreadable } };
    const duration = range.plannedDuration ?? range.duration ?? cue?.duration;
    return {
      cue: {
        kind: 'out',
        tag: 'EXT-X-DATERANGE',
        id: range.id,
        ...(duration ? { duration } : {}),
        ...unreadable,
      },
    };
  }
  return {};
}

/** DATERANGE SCTE35-* values as hls-parser gives them (bytes), or their text. */
function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return Uint8Array.from(value as number[]);
  return decodeCueText(String(value));
}
