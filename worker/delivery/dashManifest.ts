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
import { attachCues, breakCues, type EventNode } from './dashEvents.js';
import { FetchError, ManifestRefused } from './guardedGet.js';
import { MAX_SEGMENTS_KEPT, type SegmentInfo } from './segments.js';

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

/** What one MPD may ask the parser to build; a monitor needs a window around the live edge. */
export const MPD_LIMITS = {
  /** Segments one SegmentTimeline or SegmentTemplate@duration may imply (5.5 h of 2 s segments). */
  segments: 10_000,
  /** Segments the whole document may imply, every Representation a template applies to counted. */
  totalSegments: 100_000,
  periods: 50,
  representations: 200,
  /** EventStream Events (ad-break cues): a live window holds a few. */
  events: 1000,
} as const;

interface XmlElement {
  tagName: string;
  parentNode: XmlElement | null;
  childNodes: ArrayLike<XmlElement>;
  getAttribute(name: string): string | null;
  getElementsByTagName(name: string): ArrayLike<XmlElement>;
}

/** An attribute's value; null when absent (xmldom answers "" for an attribute that is not there). */
function attr(el: XmlElement, name: string): string | null {
  const value = el.getAttribute(name);
  return value === null || value === '' ? null : value;
}

function checkBounds(root: XmlElement, nowMs: number): void {
  const refuse = (what: string, limit: string): never => {
    throw new ManifestRefused(`MPD refused: ${what} (limit ${limit})`, '', limit);
  };
  const count = (tag: string) => root.getElementsByTagName(tag).length;
  if (count('Period') > MPD_LIMITS.periods)
    refuse(`${count('Period')} Periods`, `${MPD_LIMITS.periods} Periods`);
  if (count('Representation') > MPD_LIMITS.representations)
    refuse(`${count('Representation')} Representations`, `${MPD_LIMITS.representations} Representations`);
  if (count('Event') > MPD_LIMITS.events) refuse(`${count('Event')} Events`, `${MPD_LIMITS.events} Events`);
  const dynamic = attr(root, 'type') === 'dynamic';
  const ast = Date.parse(attr(root, 'availabilityStartTime') ?? '');
  // Numbers the parser loops on: a duration of 0 (or less) never reaches the end of a Period.
  const positive = (what: string, text: string | null, fallback: number): number => {
    const value = text === null ? fallback : Number(text);
    if (!(value > 0) || !Number.isFinite(value))
      refuse(`${what} "${text}" is not a positive number`, 'well-formed numbers');
    return value;
  };
  // How long a timeline can run: since availabilityStartTime for a live MPD (within its time-shift
  // window for @duration templates), the whole presentation for a static one (the longest of
  // MPD@mediaPresentationDuration and any Period's end).
  let presentation = isoSeconds(attr(root, 'mediaPresentationDuration') ?? undefined) ?? 0;
  for (const period of Array.from(root.getElementsByTagName('Period')))
    presentation = Math.max(
      presentation,
      (isoSeconds(attr(period, 'start') ?? undefined) ?? 0) +
        (isoSeconds(attr(period, 'duration') ?? undefined) ?? 0),
    );
  const horizon = dynamic ? (Number.isFinite(ast) ? Math.max(0, (nowMs - ast) / 1000) : 0) : presentation;
  const window = isoSeconds(attr(root, 'timeShiftBufferDepth') ?? undefined);
  const templated = dynamic && window !== null ? Math.min(window, horizon) : horizon;
  for (const s of Array.from(root.getElementsByTagName('S'))) {
    positive('S@d', attr(s, 'd'), 0);
    const r = attr(s, 'r');
    if (r !== null && (!Number.isInteger(Number(r)) || Number(r) < -1))
      refuse(`S@r "${r}"`, 'well-formed numbers');
    const t = attr(s, 't');
    if (t !== null && !(Number(t) >= 0)) refuse(`S@t "${t}"`, 'well-formed numbers');
  }
  // What the parser expands is per Representation, with the segment information it inherits: each
  // attribute and the timeline from the nearest of Representation, AdaptationSet and Period (an
  // AdaptationSet's @duration with a Representation's @timescale is one template).
  const segmentInfo = (el: XmlElement | null) =>
    el
      ? Array.from(el.childNodes ?? []).filter((c) =>
          ['SegmentTemplate', 'SegmentList', 'SegmentBase'].includes(c.tagName),
        )
      : [];
  let total = 0;
  for (const representation of Array.from(root.getElementsByTagName('Representation'))) {
    const levels = [representation, representation.parentNode, representation.parentNode?.parentNode ?? null];
    const infos = levels.flatMap(segmentInfo);
    const nearest = (name: string) => infos.map((i) => attr(i, name)).find((v) => v !== null) ?? null;
    const timescale = positive('@timescale', nearest('timescale'), 1);
    const durationText = nearest('duration');
    let implied = 0;
    if (durationText !== null)
      implied = (templated * timescale) / positive('SegmentTemplate@duration', durationText, 0);
    // Every timeline it might inherit is counted (which one mpd-parser expands is its business).
    const timelines = infos
      .flatMap((i) => Array.from(i.childNodes ?? []))
      .filter((c) => c.tagName === 'SegmentTimeline');
    for (const timeline of timelines) {
      let listed = 0;
      let time = 0;
      const entries = Array.from(timeline.getElementsByTagName('S'));
      entries.forEach((s, i) => {
        const r = Number(attr(s, 'r') ?? 0);
        const d = Number(attr(s, 'd'));
        time = Number(attr(s, 't') ?? time);
        const nextT = entries[i + 1] ? attr(entries[i + 1], 't') : null;
        // r = -1 repeats up to the next S@t when there is one (a fuzz run's t="2147483647" after
        // d="1" made two billion), else to the end of the Period: counted to the furthest end
        // the parser may take (a live MPD without a usable availabilityStartTime falls back to
        // the presentation's).
        const count =
          r >= 0
            ? r + 1
            : nextT !== null
              ? Math.max(0, Math.ceil((Number(nextT) - time) / d))
              : (Math.max(horizon, presentation) * timescale) / d;
        listed += count;
        time += count * d;
      });
      implied = Math.max(implied, listed);
    }
    if (!(implied <= MPD_LIMITS.segments))
      refuse(
        `Representation "${attr(representation, 'id') ?? ''}" implies ${Number.isFinite(implied) ? Math.round(implied) : 'unbounded'} segments (${timelines.length ? 'SegmentTimeline' : `@duration ${durationText}/${timescale} s`})`,
        `${MPD_LIMITS.segments} segments`,
      );
    total += implied;
    if (total > MPD_LIMITS.totalSegments)
      refuse(
        `the document implies more than ${MPD_LIMITS.totalSegments} segments`,
        `${MPD_LIMITS.totalSegments} segments in all`,
      );
  }
}

/** The MPD element, or a FetchError saying the document is not one. */
function mpdElementOrError(text: string, url: string): unknown {
  try {
    return mpdElement(text);
  } catch (e) {
    throw new FetchError(`not a DASH manifest (${(e as Error).message})`, url);
  }
}

/** The Event elements of every Period's EventStreams, in document order (as mpd-parser lists them). */
function eventNodes(root: XmlElement): EventNode[] {
  const children = (el: XmlElement, name: string) =>
    Array.from(el.childNodes).filter((c) => c.tagName === name || c.tagName?.endsWith(`:${name}`));
  return children(root, 'Period').flatMap((period) =>
    children(period, 'EventStream').flatMap((stream) => children(stream, 'Event') as unknown as EventNode[]),
  );
}

/** Parses an MPD (`url`: where it was loaded from, for relative URLs). Throws on anything else. */
export function parseMpd(text: string, url: string, nowMs = Date.now()): DashManifest {
  let playlists: MpdPlaylist[];
  const root = mpdElementOrError(text, url);
  try {
    checkBounds(root as XmlElement, nowMs);
  } catch (e) {
    if (e instanceof ManifestRefused) throw new ManifestRefused(e.message, url, e.limit);
    throw e;
  }
  let events: ReturnType<typeof inheritAttributes>['eventStream'];
  try {
    const info = inheritAttributes(root, { manifestUri: url });
    playlists = toPlaylists(info.representationInfo);
    events = info.eventStream;
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
      segments: p.segments.slice(-MAX_SEGMENTS_KEPT).map((s) => ({
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
  // Ad breaks (SCTE-35 in EventStreams) on the picture segments they fall in.
  const cues = events?.length ? breakCues(events, eventNodes(root as XmlElement)) : [];
  for (const rep of video) attachCues(rep.segments, cues);
  const audio = all.filter((p) => kindOf(p) === 'audio').map(describe);
  if (video.length === 0 && audio.length === 0) throw new FetchError('the MPD lists no audio or video', url);
  const first = all[0].attributes;
  const maxSegmentDuration = isoSeconds(first.maxSegmentDuration);
  // A loop, not a spread: a long list spread into a call overflows the stack.
  let longest = 0;
  for (const r of [...video, ...audio]) for (const s of r.segments) longest = Math.max(longest, s.duration);
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
  const target = Math.max(1, Math.ceil(segments.reduce((m, s) => Math.max(m, s.duration), 0)));
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
