/**
 * Opening a ladder: the source URL is loaded once. A multivariant playlist gives a ladder, a media
 * playlist a ladder of one, an MPD a ladder of its video Representations; the renditions watched
 * and the one decoded are chosen (ladderChoice.ts), with the documents ffmpeg then reads. Anything
 * else (a file over http, an endless TS) is not a ladder: null, and ffmpeg reads the URL alone.
 */
import type { SecurityConfig } from '../../shared/config.js';
import type { RenditionRef } from '../../shared/events.js';
import type { Logger } from '../../shared/logger.js';
import type { Thresholds } from '../../shared/thresholds.js';
import { type DashManifest, looksLikeMpd } from './dashManifest.js';
import { FetchError, type Fetched, guardedGet } from './guardedGet.js';
import {
  audioRenditions,
  hlsPairPlaylist,
  type LadderRefs,
  MAX_AUDIO_RENDITIONS,
  pickDecoded,
  watchedRenditions,
} from './ladderChoice.js';
import { ManifestSandbox } from './ManifestSandbox.js';
import type { DocumentKind, ParsedDocument } from './parseDocument.js';

/** The largest playlist or MPD loaded. */
export const MAX_PLAYLIST_BYTES = 4 << 20;

/** What opening a ladder needs. */
export interface LadderLoadOptions {
  security: SecurityConfig;
  thresholds: Thresholds;
  /** Which rendition the decoder reads: the highest bandwidth, or the lowest for cost. */
  decode: 'top' | 'lowest';
  logger: Logger;
  /** Where the guard proxy serves the monitor's documents; null: a DASH source is left to ffmpeg. */
  documentsBase: string | null;
  /** Where playlists and MPDs are parsed (default: the worker's sandbox processes). */
  parser?: ManifestSandbox;
}

/** A ladder as opened: its renditions, what ffmpeg opens, and the documents written for it. */
export interface LadderPlan {
  ladder: LadderRefs;
  /** What ffmpeg opens: the decoded media playlist, the master, or a document served to it. */
  decoderUrl: string;
  /** HLS with sound in a group of its own: the multivariant playlist ffmpeg reads (`master.m3u8`). */
  master?: string;
  /** HLS: the source's own multivariant playlist, watched after this first load (MasterWatch.ts). */
  masterUrl?: string;
  /** DASH: the MPD's URL, each rendition's Representation id, and the MPD as first loaded. */
  dash?: { refs: { url: string; ids: string[] }; mpd: DashManifest };
}

/** Parses a loaded document in the sandbox (or the parser given). */
export function parseIn(
  options: { parser?: ManifestSandbox },
  kind: DocumentKind,
  fetched: Fetched,
): Promise<ParsedDocument> {
  return (options.parser ?? ManifestSandbox.shared()).parse({
    kind,
    text: fetched.body.toString('utf8'),
    url: fetched.url,
  });
}

/**
 * Loads the source URL. A multivariant playlist gives a ladder; a media playlist a ladder of
 * one; an MPD a ladder of its video Representations; anything else (a file over http, an
 * endless TS) is not a ladder: null, and ffmpeg reads the URL alone.
 */
export async function loadLadder(url: string, options: LadderLoadOptions): Promise<LadderPlan | null> {
  const fetched = await guardedGet(url, {
    security: options.security,
    timeoutMs: options.thresholds.delivery.segmentTimeout * 1000,
    maxBytes: MAX_PLAYLIST_BYTES,
    // Anything but a playlist or an MPD (a file, an endless TS over http) is left to ffmpeg.
    sniff: (first) =>
      first.length < 7 || first.subarray(0, 7).toString('latin1') === '#EXTM3U' || looksLikeMpd(first),
  });
  if (fetched.abandoned) return null;
  if (looksLikeMpd(fetched.body)) return loadDash(url, fetched, options);
  if (fetched.body.subarray(0, 7).toString('latin1') !== '#EXTM3U') return null;
  const playlist = await parseIn(options, 'hls', fetched);
  if (playlist.kind !== 'master')
    return {
      ladder: { video: [{ uri: url, bandwidth: 0 }], decoded: 0, audio: [], decodedAudio: -1 },
      decoderUrl: url,
    };
  const variants = playlist.variants;
  if (variants.length === 0) throw new FetchError('multivariant playlist lists no variant', url);
  const refs: RenditionRef[] = variants.map((v) => ({
    uri: v.uri,
    bandwidth: v.bandwidth,
    ...(v.resolution ? { resolution: v.resolution } : {}),
  }));
  let decoded = pickDecoded(refs, options.decode);
  const sound = audioRenditions(variants, decoded);
  let decoderUrl = refs[decoded].uri;
  let master: string | null = null;
  if (sound.decoded >= 0) {
    if (options.documentsBase) {
      // Sound in a rendition group of its own: ffmpeg reads a multivariant playlist of the
      // chosen picture rendition and its sound, which this monitor serves (document()).
      master = hlsPairPlaylist(refs[decoded], sound.refs[sound.decoded]);
      decoderUrl = `${options.documentsBase}master.m3u8`;
    } else {
      // No proxy to serve it: ffmpeg reads the source's master and decodes its first variant.
      decoded = 0;
      decoderUrl = url;
      sound.decoded = -1;
    }
  }
  const ladder = watchedRenditions(refs, decoded, options.logger);
  return {
    ladder: {
      video: ladder.map((i) => refs[i]),
      decoded: ladder.indexOf(decoded),
      audio: sound.refs,
      decodedAudio: sound.decoded,
    },
    decoderUrl,
    masterUrl: url,
    ...(master ? { master } : {}),
  };
}

/**
 * An MPD: its video Representations are the ladder; the decoder reads the chosen one (and the
 * first audio Representation) through HLS playlists written from each load of the MPD.
 */
async function loadDash(
  url: string,
  fetched: Fetched,
  options: LadderLoadOptions,
): Promise<LadderPlan | null> {
  const mpd = (await parseIn(options, 'mpd', fetched)) as DashManifest;
  // Without the guard proxy to serve the playlists, or without pictures, ffmpeg reads the MPD.
  if (!options.documentsBase || mpd.video.length === 0) return null;
  const refs = mpd.video.map((v) => v.ref);
  const decoded = pickDecoded(refs, options.decode);
  const watched = watchedRenditions(refs, decoded, options.logger);
  // The decoder reads the first audio Representation (MpdPoller); the others are watched.
  const audio = mpd.audio.slice(0, MAX_AUDIO_RENDITIONS);
  return {
    ladder: {
      video: watched.map((i) => refs[i]),
      decoded: watched.indexOf(decoded),
      audio: audio.map((a) => a.ref),
      decodedAudio: audio.length > 0 ? 0 : -1,
    },
    decoderUrl: `${options.documentsBase}master.m3u8`,
    dash: { refs: { url, ids: [...watched.map((i) => mpd.video[i].id), ...audio.map((a) => a.id)] }, mpd },
  };
}
