/**
 * Delivery monitoring of an ABR ladder by the worker itself. HLS: the multivariant playlist and
 * every rendition's media playlist (polled as RFC 8216 §6.3.4 tells a client to). DASH: the MPD
 * (reloaded every MPD@minimumUpdatePeriod), each video Representation a rendition; the decoder
 * reads the chosen one through HLS playlists this monitor writes (dashManifest.ts). Both: the
 * decoded rendition's segments (seen through the guard proxy as ffmpeg fetches them: no second
 * download), and sampled segments of the other renditions, whose key frames are looked at for
 * black and frozen pictures.
 *
 * Each rendition has its own alarm tracker, so every delivery event names its rendition. A black
 * or frozen picture found by the decoded rendition's detectors is checked against the other
 * renditions' key frames over the same source time (RFC 8216 §6.2.4: matching content in variant
 * streams has matching timestamps) before it is raised: seen on all, `scope: "all"` (source or
 * encoder); on the decoded one only, `scope: "rendition"`. A rendition whose own key frames stop
 * (or go black) while the decoded one plays is raised for that rendition.
 */
import type { SecurityConfig } from '../../shared/config.js';
import type {
  DefectEvent,
  DefectScope,
  DefectType,
  DeliveryType,
  RenditionRef,
} from '../../shared/events.js';
import { isDeliveryType } from '../../shared/events.js';
import type { Logger } from '../../shared/logger.js';
import type { Thresholds } from '../../shared/thresholds.js';
import { AlarmTracker, type OpenAlarm } from '../alarms/AlarmTracker.js';
import type { Exchange } from '../converter/GuardProxy.js';
import type { MediaClock } from '../converter/MediaClock.js';
import { TransportDetector, type TransportType } from '../detectors/TransportDetector.js';
import type { Detail, Observation } from '../detectors/types.js';
import { PACKET, type TransportErrors, TsAnalyzer } from '../transport/TsAnalyzer.js';
import {
  type DashManifest,
  type DashRepresentation,
  hlsMasterPlaylist,
  hlsMediaPlaylist,
  looksLikeMpd,
} from './dashManifest.js';
import { FetchError, type Fetched, guardedGet, ManifestRefused } from './guardedGet.js';
import type { HlsMedia, HlsVariant } from './hlsPlaylist.js';
import { KEYFRAME_NOISE, type KeyframeSample, probeKeyframes, thumbChange } from './keyframeProbe.js';
import { ManifestSandbox } from './ManifestSandbox.js';
import type { DocumentKind, ParsedDocument } from './parseDocument.js';
import type { SegmentInfo } from './segments.js';

const MAX_PLAYLIST_BYTES = 4 << 20;
const MAX_SEGMENT_BYTES = 64 << 20;
/** Renditions watched at most (the decoded one and those nearest it in bandwidth): a hostile master cannot fan out. */
export const MAX_RENDITIONS = 12;
/** Audio renditions watched at most (the decoded one first, then as listed). */
export const MAX_AUDIO_RENDITIONS = 4;
/** Seconds a DASH segment may run past MPD@maxSegmentDuration (about two audio or video frames). */
const FRAME_SLACK = 0.1;
/** Shortest reload interval, seconds, whatever target duration a playlist claims. */
const MIN_TARGET_DURATION = 1;
/** Consecutive failed loads of a media playlist that make its variant missing. */
const MISSING_AFTER_FAILURES = 2;
/** Key-frame samples kept per rendition, seconds of source time. */
const SAMPLE_HISTORY_SECONDS = 60;
/** A tick without a segment checked: nothing wrong seen. */
const NO_TRANSPORT_ERRORS: TransportErrors = Object.freeze(new TsAnalyzer().take());
/** Content types a key-frame probe can check on another rendition. */
type ProbeType = 'video.black' | 'video.freeze';
const PROBE_TYPES: readonly ProbeType[] = ['video.black', 'video.freeze'];

export interface LadderMonitorOptions {
  streamId: string;
  security: SecurityConfig;
  thresholds: Thresholds;
  /** Enabled types: the delivery rules run, and black/freeze enable the key-frame probes. */
  types: readonly DefectType[];
  /** Which rendition the decoder reads: the highest bandwidth, or the lowest for cost. */
  decode: 'top' | 'lowest';
  logger: Logger;
  clock: MediaClock;
  wallClock: (mediaTime: number) => Date;
  /** Segments the decoder fetches are seen through the guard proxy (plain http). */
  proxyObserves: boolean;
  /**
   * Where the guard proxy serves this monitor's own documents (the HLS playlists a DASH source is
   * decoded through, see document()); null without a proxy: a DASH source is left to ffmpeg.
   */
  documentsBase: string | null;
  onEvent: (event: DefectEvent) => void;
  ffmpeg?: string;
  /** Where playlists and MPDs are parsed (default: the worker's sandbox threads). */
  parser?: ManifestSandbox;
}

/** Parses a loaded document in the sandbox (or the parser given). */
function parseIn(
  options: LadderMonitorOptions,
  kind: DocumentKind,
  fetched: Fetched,
): Promise<ParsedDocument> {
  return (options.parser ?? ManifestSandbox.shared()).parse({
    kind,
    text: fetched.body.toString('utf8'),
    url: fetched.url,
  });
}

export type { SegmentInfo } from './segments.js';

type Faults = Partial<Record<DeliveryType, Detail>>;

/** A multivariant playlist of one picture rendition and its sound (absolute URIs: the source's). */
function hlsPairPlaylist(video: RenditionRef, audio: RenditionRef): string {
  const quoted = (text: string) => text.replace(/["\r\n]/g, '');
  return [
    '#EXTM3U',
    `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="${quoted(audio.name ?? 'audio')}",DEFAULT=YES,AUTOSELECT=YES,URI="${quoted(audio.uri)}"`,
    `#EXT-X-STREAM-INF:BANDWIDTH=${Math.max(1, video.bandwidth)},AUDIO="audio"`,
    video.uri,
    '',
  ].join('\n');
}

class Rendition {
  readonly tracker: AlarmTracker;
  segments = new Map<number, SegmentInfo>();
  byUri = new Map<string, SegmentInfo>();
  /** Media sequence numbers of the first and last segment listed (last < first: none). */
  first = 0;
  last = -1;
  targetDuration = 6;
  loaded = false;
  ended = false;
  lastChangeAt = Date.now();
  failures = 0;
  /** When its playlist last loaded (ms), and since when it has been failing to (null: it loads). */
  lastLoadAt: number | null = null;
  failingSince: number | null = null;
  lastFailureAt: number | null = null;
  faults: Faults = {};
  stale: Detail | null = null;
  missing: Detail | null = null;
  /** Its playlist (or the MPD) loads but is refused: a limit hit, or not parsable. */
  invalid: Detail | null = null;
  lastT: number | null = null;
  nextSample = -1;
  busy = false;
  /** Media sequence numbers already probed, and the first key frame time of each (anchors). */
  probed = new Map<number, number>();
  samples: KeyframeSample[] = [];
  judgedUpTo = Number.NEGATIVE_INFINITY;
  maps = new Map<string, Buffer>();
  timer: NodeJS.Timeout | null = null;
  /** DASH: the Period this representation was last listed in (another one starts a new timeline). */
  periodStart = 0;
  /** TR 101 290 checks of its TS segments, on their PCR clock; one run of consecutive segments. */
  ts: TsAnalyzer | null = null;
  /** The media sequence number that continues the analyser's run. */
  tsNext = -1;
  /** Transport errors found since the last tick. */
  tsErrors: TransportErrors | null = null;
  transport: TransportDetector[] = [];

  constructor(
    readonly ref: RenditionRef,
    /** ffmpeg reads this rendition (the decoded pictures' one, or the decoded sound's). */
    readonly decoded: boolean,
    tracker: (r: Rendition) => AlarmTracker,
  ) {
    this.tracker = tracker(this);
  }

  /** Sound only: polled and its segments checked, no key frames to look at. */
  get audio(): boolean {
    return this.ref.type === 'audio';
  }
}

/** The ladder's renditions as open() found them: pictures (a ladder) and separate sound. */
interface LadderRefs {
  video: RenditionRef[];
  /** Index of the decoded picture rendition in `video`. */
  decoded: number;
  audio: RenditionRef[];
  /** Index of the decoded sound rendition in `audio` (-1: sound is muxed, or not chosen here). */
  decodedAudio: number;
}

/** Raised content events of the decoded rendition wait for this verdict on the others. */
interface ScopeVerdict {
  scope: DefectScope;
  renditionsChecked: number;
}

export class LadderMonitor {
  readonly renditions: Rendition[];
  /** Intervals (source time) where the decoded rendition showed black or a still picture. */
  private readonly decodedActive: Record<ProbeType, [number, number][]> = {
    'video.black': [],
    'video.freeze': [],
  };
  private readonly scopes = new Map<string, ScopeVerdict>();
  private readonly abort = new AbortController();
  private stopped = false;
  private readonly deliveryTypes: DeliveryType[];
  private readonly probeTypes: ProbeType[];
  /** DASH: the playlists the decoder reads, rewritten at each load of the MPD. */
  private readonly documents = new Map<string, string>();
  private mpdFailures = 0;
  /** DASH: the last MPD loaded (its reload period, whether it is live). */
  private mpd: DashManifest | null = null;
  private mpdTimer: NodeJS.Timeout | null = null;

  private constructor(
    private readonly options: LadderMonitorOptions,
    ladder: LadderRefs,
    /** What ffmpeg opens: the decoded media playlist, the master (see open()), or document(). */
    readonly decoderUrl: string,
    /** DASH: the MPD's URL and each rendition's Representation id (pictures, then sound). */
    private readonly dash: { url: string; ids: string[] } | null = null,
  ) {
    this.deliveryTypes = options.types.filter(isDeliveryType);
    this.probeTypes = PROBE_TYPES.filter((t) => options.types.includes(t));
    const refs = [...ladder.video, ...ladder.audio];
    const decodedAudio = ladder.decodedAudio < 0 ? -1 : ladder.video.length + ladder.decodedAudio;
    this.renditions = refs.map(
      (ref, i) =>
        new Rendition(
          ref,
          i === ladder.decoded || i === decodedAudio,
          (r) =>
            new AlarmTracker({
              streamId: options.streamId,
              thresholds: options.thresholds,
              wallClock: options.wallClock,
              subject: ref.uri,
              onEvent: (event) => options.onEvent(this.describe(event, r)),
            }),
        ),
    );
    const transportTypes = options.types.filter((t): t is TransportType => t.startsWith('transport.'));
    for (const r of this.renditions)
      r.transport = transportTypes.map(
        (type) =>
          new TransportDetector(
            {
              thresholds: options.thresholds,
              emit: (o) => r.tracker.observe(o),
              live: true,
              segmented: true,
              expect: { audio: true, video: true },
            },
            type,
          ),
      );
  }

  /**
   * Loads the source URL. A multivariant playlist gives a ladder; a media playlist a ladder of
   * one; an MPD a ladder of its video Representations; anything else (a file over http, an
   * endless TS) is not a ladder: null, and ffmpeg reads the URL alone.
   */
  static async open(url: string, options: LadderMonitorOptions): Promise<LadderMonitor | null> {
    const fetched = await guardedGet(url, {
      security: options.security,
      timeoutMs: options.thresholds.delivery.segmentTimeout * 1000,
      maxBytes: MAX_PLAYLIST_BYTES,
      // Anything but a playlist or an MPD (a file, an endless TS over http) is left to ffmpeg.
      sniff: (first) =>
        first.length < 7 || first.subarray(0, 7).toString('latin1') === '#EXTM3U' || looksLikeMpd(first),
    });
    if (fetched.abandoned) return null;
    if (looksLikeMpd(fetched.body)) return LadderMonitor.openDash(url, fetched, options);
    if (fetched.body.subarray(0, 7).toString('latin1') !== '#EXTM3U') return null;
    const playlist = await parseIn(options, 'hls', fetched);
    if (playlist.kind !== 'master')
      return new LadderMonitor(
        options,
        { video: [{ uri: url, bandwidth: 0 }], decoded: 0, audio: [], decodedAudio: -1 },
        url,
      );
    const variants = playlist.variants;
    if (variants.length === 0) throw new FetchError('multivariant playlist lists no variant', url);
    const refs: RenditionRef[] = variants.map((v) => ({
      uri: v.uri,
      bandwidth: v.bandwidth,
      ...(v.resolution ? { resolution: v.resolution } : {}),
    }));
    let decoded = LadderMonitor.pick(refs, options.decode);
    const sound = LadderMonitor.audioOf(variants, decoded);
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
    const ladder = LadderMonitor.watch(refs, decoded, options.logger);
    const monitor = new LadderMonitor(
      options,
      {
        video: ladder.map((i) => refs[i]),
        decoded: ladder.indexOf(decoded),
        audio: sound.refs,
        decodedAudio: sound.decoded,
      },
      decoderUrl,
    );
    if (master) monitor.documents.set('master.m3u8', master);
    return monitor;
  }

  /**
   * The sound renditions (`EXT-X-MEDIA` TYPE=AUDIO with a URI) of a multivariant playlist, the
   * decoded variant's group first; the one decoded is that group's DEFAULT (else its first).
   */
  private static audioOf(variants: HlsVariant[], decoded: number): { refs: RenditionRef[]; decoded: number } {
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

  /**
   * An MPD: its video Representations are the ladder; the decoder reads the chosen one (and the
   * first audio Representation) through HLS playlists written from each load of the MPD.
   */
  private static async openDash(
    url: string,
    fetched: Fetched,
    options: LadderMonitorOptions,
  ): Promise<LadderMonitor | null> {
    const mpd = (await parseIn(options, 'mpd', fetched)) as DashManifest;
    // Without the guard proxy to serve the playlists, or without pictures, ffmpeg reads the MPD.
    if (!options.documentsBase || mpd.video.length === 0) return null;
    const refs = mpd.video.map((v) => v.ref);
    const decoded = LadderMonitor.pick(refs, options.decode);
    const watched = LadderMonitor.watch(refs, decoded, options.logger);
    // The decoder reads the first audio Representation (writePlaylists); the others are watched.
    const audio = mpd.audio.slice(0, MAX_AUDIO_RENDITIONS);
    const monitor = new LadderMonitor(
      options,
      {
        video: watched.map((i) => refs[i]),
        decoded: watched.indexOf(decoded),
        audio: audio.map((a) => a.ref),
        decodedAudio: audio.length > 0 ? 0 : -1,
      },
      `${options.documentsBase}master.m3u8`,
      { url, ids: [...watched.map((i) => mpd.video[i].id), ...audio.map((a) => a.id)] },
    );
    monitor.applyMpd(mpd);
    return monitor;
  }

  /** The rendition to decode: the highest bandwidth, or the lowest for cost. */
  private static pick(refs: RenditionRef[], decode: 'top' | 'lowest'): number {
    const order = refs.map((_, i) => i).sort((a, b) => refs[a].bandwidth - refs[b].bandwidth);
    return decode === 'lowest' ? order[0] : order[order.length - 1];
  }

  /** The renditions watched: the decoded one and those nearest it in bandwidth, MAX_RENDITIONS at most. */
  private static watch(refs: RenditionRef[], decoded: number, logger: Logger): number[] {
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

  /** The rendition whose pictures are decoded. */
  get decoded(): Rendition {
    return this.renditions.find((r) => r.decoded && !r.audio) as Rendition;
  }

  /** The other picture renditions: looked at through their key frames. */
  private get sampledPictures(): Rendition[] {
    return this.renditions.filter((r) => !r.decoded && !r.audio);
  }

  start(): void {
    if (this.dash) this.scheduleMpd(true);
    else for (const r of this.renditions) void this.poll(r);
  }

  /** A document the guard proxy serves the decoder (DASH: `master.m3u8`, `video.m3u8`, `audio.m3u8`). */
  document(path: string): string | null {
    return this.documents.get(path) ?? null;
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
    for (const r of this.renditions) if (r.timer) clearTimeout(r.timer);
    if (this.mpdTimer) clearTimeout(this.mpdTimer);
  }

  /** Alarms of renditions open before a restart (delivery, a segment's transport, a key-frame probe). */
  restore(events: DefectEvent[]): void {
    for (const event of events) {
      const uri = typeof event.detail.rendition === 'object' ? event.detail.rendition.uri : null;
      const r = this.renditions.find((x) => x.ref.uri === uri);
      const alarm: OpenAlarm = {
        type: event.type,
        start: event.start,
        dedupKey: event.dedupKey,
        wallStart: event.wallStart,
      };
      if (r) r.tracker.restore([alarm]);
    }
  }

  /** A scope decided before a restart, so the clear of a restored alarm keeps its raise's slot. */
  rememberScope(event: DefectEvent): void {
    const scope = event.detail.scope;
    if (scope === 'all' || scope === 'rendition')
      this.scopes.set(event.dedupKey, {
        scope,
        renditionsChecked: Number(event.detail.renditionsChecked ?? 0),
      });
  }

  private fetch(url: string, maxBytes: number): Promise<Fetched> {
    return guardedGet(url, {
      security: this.options.security,
      timeoutMs: this.options.thresholds.delivery.segmentTimeout * 1000,
      maxBytes,
      signal: this.abort.signal,
    });
  }

  // ---- playlists -------------------------------------------------------------------------------

  private async poll(r: Rendition): Promise<void> {
    if (this.stopped) return;
    const started = Date.now();
    let changed = false;
    try {
      const fetched = await this.fetch(r.ref.uri, MAX_PLAYLIST_BYTES);
      if (fetched.body.subarray(0, 7).toString('latin1') !== '#EXTM3U')
        throw new FetchError('not a playlist', fetched.url, fetched.status);
      const playlist = await parseIn(this.options, 'hls', fetched);
      if (this.stopped) return;
      if (playlist.kind !== 'media')
        throw new FetchError('a multivariant playlist where a media playlist was listed', fetched.url);
      r.failures = 0;
      r.failingSince = null;
      r.missing = null;
      r.invalid = null;
      changed = this.compare(r, playlist);
    } catch (e) {
      if (this.stopped) return;
      if (e instanceof ManifestRefused) {
        // It loads: not missing. Refused, and nothing in it judged until it is acceptable again.
        r.failures = 0;
        r.missing = null;
        r.invalid = { reason: e.message, limit: e.limit, document: e.url };
      } else {
        r.failures++;
        r.failingSince ??= Date.now();
        r.lastFailureAt = Date.now();
      }
      const status = e instanceof FetchError ? e.status : undefined;
      if (r.failures >= MISSING_AFTER_FAILURES)
        r.missing = { reason: (e as Error).message, ...(status ? { status } : {}), failures: r.failures };
    }
    if (this.stopped || r.ended) return;
    // RFC 8216 §6.3.4: reload after the target duration; after an unchanged reload, half of it.
    const wait = (changed ? r.targetDuration : r.targetDuration / 2) * 1000;
    r.timer = setTimeout(() => void this.poll(r), Math.max(250, started + wait - Date.now()));
  }

  /** An HLS media playlist, as the segments, limits and state that every ladder shares. */
  private compare(r: Rendition, playlist: HlsMedia): boolean {
    return this.update(r, playlist.segments, {
      targetDuration: playlist.targetDuration,
      // RFC 8216 §4.3.3.1: a segment's duration, rounded to an integer, is at most the target.
      longest: playlist.targetDuration ? playlist.targetDuration + 0.5 : null,
      ended: playlist.endlist,
      emptyFirst: playlist.mediaSequenceBase,
    });
  }

  /** Compares a fresh list of a rendition's segments with the last one; true when it changed. */
  private update(
    r: Rendition,
    fresh: SegmentInfo[],
    limits: {
      targetDuration: number;
      /** Segments this long or longer break the playlist's own limit (null: it declares none). */
      longest: number | null;
      ended: boolean;
      /** The first sequence number when no segment is listed. */
      emptyFirst: number;
    },
  ): boolean {
    const rule = this.options.thresholds.delivery;
    r.targetDuration = Math.max(MIN_TARGET_DURATION, limits.targetDuration || r.targetDuration);
    const now = Date.now();
    const wasLoaded = r.loaded && r.segments.size > 0;
    const prevFirst = wasLoaded ? r.first : 0;
    const prevLast = wasLoaded ? r.last : -1;
    const first = fresh[0]?.msn ?? limits.emptyFirst;
    const last = fresh.length ? fresh[fresh.length - 1].msn : first - 1;
    const changed = !wasLoaded || first !== prevFirst || last !== prevLast || limits.ended !== r.ended;
    if (wasLoaded) {
      if (first < prevFirst)
        this.fault(r, 'delivery.sequence', {
          reason: 'media sequence went back',
          from: prevFirst,
          to: first,
        });
      else if (first > prevLast + 1 && !this.missedByUs(r, first - prevLast - 1, now))
        this.fault(r, 'delivery.sequence', { reason: 'segments skipped', skipped: first - prevLast - 1 });
      for (const s of fresh) {
        const before = r.segments.get(s.msn);
        if (!before) continue;
        if (before.uri !== s.uri || Math.abs(before.duration - s.duration) > 0.001)
          this.fault(r, 'delivery.sequence', {
            reason: 're-listed with another URI or duration',
            msn: s.msn,
          });
        else if (before.discontinuity !== s.discontinuity)
          this.fault(r, 'delivery.sequence', { reason: 'discontinuity sequence inconsistent', msn: s.msn });
      }
    }
    fresh.forEach((s, i) => {
      if (s.msn <= prevLast) return;
      if (limits.longest !== null && s.duration >= limits.longest)
        this.fault(r, 'delivery.segment_duration', {
          msn: s.msn,
          duration: s.duration,
          targetDuration: limits.targetDuration,
        });
      // DASH: a segment that does not start where the one before it ended (a SegmentTimeline gap).
      const before = fresh[i - 1];
      if (i > 0 && s.start !== undefined && before.start !== undefined) {
        const gap = s.start - (before.start + before.duration);
        if (Math.abs(gap) > 0.05)
          this.fault(r, 'delivery.sequence', {
            reason: gap > 0 ? 'timeline gap' : 'timeline overlap',
            msn: s.msn,
            seconds: Math.round(gap * 1000) / 1000,
          });
      }
    });
    r.lastLoadAt = now;
    r.segments = new Map(fresh.map((s) => [s.msn, s]));
    r.byUri = new Map(fresh.map((s) => [s.uri, s]));
    r.first = first;
    r.last = last;
    r.loaded = true;
    r.ended = limits.ended;
    if (changed) {
      r.lastChangeAt = now;
      r.stale = null;
    } else if (!limits.ended && now - r.lastChangeAt > rule.staleFactor * r.targetDuration * 1000) {
      r.stale = {
        secondsUnchanged: Math.round((now - r.lastChangeAt) / 100) / 10,
        targetDuration: r.targetDuration,
        mediaSequence: last,
      };
    }
    if (fresh.length && last > prevLast) this.sample(r);
    return changed;
  }

  /**
   * Segments that slid out of a live window while this monitor could not load the playlist (the
   * origin was down, a poll failed): the monitor's own gap, not the packager's. A skip of no more
   * segments than could have been published since the last load is that (one incident per cause:
   * the outage is the stream's loss).
   */
  private missedByUs(r: Rendition, skipped: number, now: number): boolean {
    if (r.lastLoadAt === null) return false;
    const absent = (now - r.lastLoadAt) / 1000;
    if (absent <= 2 * r.targetDuration) return false;
    return skipped <= Math.ceil(absent / r.targetDuration) + 1;
  }

  /**
   * A variant's playlist failing is `delivery.variant_missing` only while another rendition of the
   * ladder has loaded, without failing, since it began to fail: when every playlist fails together
   * (and comes back together) the origin is down, which is the stream's loss (raised by the loss
   * rule), not a missing variant per rendition. DASH: one MPD lists every Representation; its
   * failures are reported as they are.
   */
  private missingNow(r: Rendition): Detail | null {
    if (!r.missing || this.dash || r.failingSince === null) return r.missing;
    const since = r.failingSince;
    const healthy = (x: Rendition) =>
      x !== r && x.lastLoadAt !== null && x.lastLoadAt > since && (x.lastFailureAt ?? 0) < since;
    return this.renditions.some(healthy) ? r.missing : null;
  }

  // ---- DASH: the MPD ---------------------------------------------------------------------------

  private scheduleMpd(changed: boolean, started = Date.now()): void {
    const mpd = this.mpd;
    if (this.stopped || (mpd && !mpd.dynamic)) return;
    // MPD@minimumUpdatePeriod; without one, a segment duration. Unchanged: half, as for HLS.
    const period = Math.max(MIN_TARGET_DURATION, mpd?.updatePeriod || mpd?.targetDuration || 2);
    const wait = (changed ? period : period / 2) * 1000;
    this.mpdTimer = setTimeout(() => void this.pollMpd(), Math.max(250, started + wait - Date.now()));
  }

  private async pollMpd(): Promise<void> {
    const dash = this.dash;
    if (this.stopped || !dash) return;
    const started = Date.now();
    let changed = false;
    try {
      const fetched = await this.fetch(dash.url, MAX_PLAYLIST_BYTES);
      if (!looksLikeMpd(fetched.body))
        throw new FetchError('not a DASH manifest', fetched.url, fetched.status);
      const mpd = (await parseIn(this.options, 'mpd', fetched)) as DashManifest;
      if (this.stopped) return;
      this.decoded.invalid = null;
      changed = this.applyMpd(mpd);
    } catch (e) {
      if (this.stopped) return;
      if (e instanceof ManifestRefused) {
        // The MPD loads but is refused: one alarm, on the decoded rendition, naming the MPD.
        this.mpdFailures = 0;
        for (const r of this.renditions) r.missing = null;
        this.decoded.invalid = { reason: e.message, limit: e.limit, document: e.url };
        this.scheduleMpd(false, started);
        return;
      }
      this.mpdFailures++;
      const status = e instanceof FetchError ? e.status : undefined;
      if (this.mpdFailures >= MISSING_AFTER_FAILURES)
        for (const r of this.renditions)
          r.missing = {
            reason: `the MPD cannot be loaded: ${(e as Error).message}`,
            ...(status ? { status } : {}),
            failures: this.mpdFailures,
          };
    }
    this.scheduleMpd(changed, started);
  }

  /** One load of the MPD: every rendition's segments compared, the decoder's playlists rewritten. */
  private applyMpd(mpd: DashManifest): boolean {
    const dash = this.dash as { url: string; ids: string[] };
    this.mpd = mpd;
    this.mpdFailures = 0;
    let changed = false;
    this.renditions.forEach((r, i) => {
      const rep = (r.audio ? mpd.audio : mpd.video).find((v) => v.id === dash.ids[i]);
      if (!rep) {
        r.missing = { reason: 'Representation no longer listed in the MPD' };
        return;
      }
      r.missing = null;
      if (rep.periodStart !== r.periodStart) {
        // A new Period: numbering and timeline start again; nothing to compare with.
        r.periodStart = rep.periodStart;
        r.loaded = false;
      }
      changed =
        this.update(r, rep.segments, {
          targetDuration: mpd.targetDuration,
          // A frame of slack: sound segments end on an audio frame, a few ms past a whole
          // duration (FFmpeg's packager lists 2.005 s sound segments under PT2S).
          longest: mpd.maxSegmentDuration === null ? null : mpd.maxSegmentDuration + FRAME_SLACK,
          ended: !mpd.dynamic,
          emptyFirst: 0,
        }) || changed;
      if (r.stale && mpd.publishTime) r.stale.publishTime = mpd.publishTime;
      if (r === this.decoded) this.writePlaylists(rep, mpd);
    });
    return changed;
  }

  /** The playlists the decoder reads: the decoded Representation and the first audio one. */
  private writePlaylists(video: DashRepresentation, mpd: DashManifest): void {
    const audio = mpd.audio[0];
    this.documents.set('master.m3u8', hlsMasterPlaylist(video, audio !== undefined));
    this.documents.set('video.m3u8', hlsMediaPlaylist(video, !mpd.dynamic));
    if (audio) this.documents.set('audio.m3u8', hlsMediaPlaylist(audio, !mpd.dynamic));
  }

  private fault(r: Rendition, type: DeliveryType, detail: Detail): void {
    if (!this.deliveryTypes.includes(type)) return;
    r.faults[type] ??= detail;
    this.options.logger.debug({ rendition: r.ref.uri, type, ...detail }, 'delivery fault');
  }

  // ---- segments --------------------------------------------------------------------------------

  /** A request ffmpeg made through the guard proxy: the decoded renditions' segments (pictures, sound). */
  onExchange(exchange: Exchange): void {
    const r = this.renditions.find((x) => x.decoded && x.byUri.has(exchange.url));
    const segment = r?.byUri.get(exchange.url);
    if (!r || !segment) return;
    if (exchange.inProgress) {
      // Judged while it runs: past the slow line, a download that has not ended is a fault now.
      if (exchange.ms > segment.duration * 1000 * this.options.thresholds.delivery.slowFactor)
        this.fault(r, 'delivery.segment_error', {
          msn: segment.msn,
          uri: segment.uri,
          reason: `download not complete after ${Math.round(exchange.ms / 1000)} s (still running)`,
          downloadMs: exchange.ms,
          durationMs: Math.round(segment.duration * 1000),
        });
      return;
    }
    this.judgeDownload(r, segment, exchange.status, exchange.ms, exchange.error);
    if (exchange.body && exchange.status < 300 && !exchange.error)
      this.checkTransport(r, segment, exchange.body);
  }

  /**
   * TR 101 290 on a TS segment's bytes (fMP4 has no transport to check). Consecutive segments of a
   * rendition are one transport stream (continuity counters, tables and PIDs carry over); a segment
   * that does not follow the last one checked starts a new run. Time is the stream's PCR clock.
   */
  private checkTransport(r: Rendition, s: SegmentInfo, bytes: Buffer): void {
    if (r.transport.length === 0 || bytes.length < PACKET || bytes[0] !== 0x47) return;
    if (!r.ts || s.msn !== r.tsNext)
      r.ts = new TsAnalyzer({
        clock: 'pcr',
        pidTimeoutSeconds: this.options.thresholds.transport.pidTimeout,
        pcrRepetition: !r.audio,
      });
    // PAT and PMT once per segment (at its start), not every 0.5 s as on a broadcast feed: the
    // wait is this segment's length, which can exceed the target duration read at the start.
    r.ts.setTableInterval(Math.max(r.targetDuration, s.duration) + 0.5);
    r.ts.push(bytes);
    r.tsNext = s.msn + 1;
    const found = r.ts.take();
    const sum = r.tsErrors;
    if (sum) for (const key of Object.keys(found) as (keyof TransportErrors)[]) sum[key] += found[key];
    else r.tsErrors = found;
  }

  private judgeDownload(r: Rendition, s: SegmentInfo, status: number, ms: number, error?: string): void {
    const rule = this.options.thresholds.delivery;
    if (error || status >= 400 || status === 0)
      this.fault(r, 'delivery.segment_error', {
        msn: s.msn,
        uri: s.uri,
        reason: error ?? `HTTP ${status}`,
        status,
      });
    else if (ms > s.duration * 1000 * rule.slowFactor)
      this.fault(r, 'delivery.segment_error', {
        msn: s.msn,
        uri: s.uri,
        reason: 'slower than real time',
        downloadMs: ms,
        durationMs: Math.round(s.duration * 1000),
      });
  }

  /**
   * Fetches the newest segment of a rendition every `sampleSeconds`: the decoded one only when
   * the proxy cannot see its downloads (https), the others for their segments and key frames.
   */
  private sample(r: Rendition): void {
    if (r.decoded && this.options.proxyObserves) return;
    if (r.busy || r.last < r.nextSample) return;
    const every = Math.max(1, Math.round(this.options.thresholds.delivery.sampleSeconds / r.targetDuration));
    r.nextSample = r.last + every;
    void this.fetchSegment(r, r.last);
  }

  /** Downloads one segment (judged like any download) and, on another rendition, probes its key frames. */
  private async fetchSegment(r: Rendition, msn: number): Promise<void> {
    const s = r.segments.get(msn);
    if (!s || r.probed.has(msn)) return;
    r.busy = true;
    try {
      let bytes: Buffer;
      try {
        const fetched = await this.fetch(s.uri, MAX_SEGMENT_BYTES);
        this.judgeDownload(r, s, fetched.status, fetched.ms);
        bytes = fetched.body;
        this.checkTransport(r, s, bytes);
      } catch (e) {
        if (this.stopped) return;
        const err = e as FetchError;
        this.judgeDownload(r, s, err.status ?? 0, 0, err.message);
        return;
      }
      if (r.decoded || r.audio || this.probeTypes.length === 0 || this.stopped) return;
      const init = s.map ? await this.initSection(r, s.map) : null;
      const samples = await probeKeyframes(init ? Buffer.concat([init, bytes]) : bytes, {
        pixelLuma: this.options.thresholds.black.pixelLuma,
        signal: this.abort.signal,
        ffmpeg: this.options.ffmpeg,
      });
      this.addSamples(r, msn, samples);
    } catch (e) {
      if (!this.stopped)
        this.options.logger.debug(
          { rendition: r.ref.uri, msn, err: (e as Error).message },
          'key-frame probe failed',
        );
    } finally {
      r.busy = false;
    }
  }

  private async initSection(r: Rendition, uri: string): Promise<Buffer> {
    const known = r.maps.get(uri);
    if (known) return known;
    const fetched = await this.fetch(uri, MAX_SEGMENT_BYTES);
    r.maps.clear();
    r.maps.set(uri, fetched.body);
    return fetched.body;
  }

  private addSamples(r: Rendition, msn: number, samples: KeyframeSample[]): void {
    r.probed.set(msn, samples[0].pts);
    // A loop, not a spread: a hostile segment may hold any number of key frames.
    for (const s of samples) if (s.pts > r.judgedUpTo) r.samples.push(s);
    r.samples.sort((a, b) => a.pts - b.pts);
    const newest = r.samples[r.samples.length - 1].pts;
    r.samples = r.samples.filter((s) => s.pts >= newest - SAMPLE_HISTORY_SECONDS);
    for (const key of r.probed.keys()) if (!r.segments.has(key) && key < r.first) r.probed.delete(key);
  }

  // ---- the decoded rendition and the scope of its content defects -------------------------------

  /** Every observation of the decoded rendition's detectors (black and freeze are kept). */
  noteDecoded(o: Observation): void {
    if (!o.active || (o.type !== 'video.black' && o.type !== 'video.freeze')) return;
    const from = this.options.clock.sourceTimeOf(o.t);
    if (from === null) return;
    const list = this.decodedActive[o.type];
    const to = from + Math.max(o.duration, 0.001);
    const last = list[list.length - 1];
    if (last && from <= last[1] + 0.5) last[1] = Math.max(last[1], to);
    else list.push([from, to]);
    while (list.length > 0 && list[0][1] < to - SAMPLE_HISTORY_SECONDS) list.shift();
  }

  /** Fraction of [from, to] (source time) where the decoded rendition showed the condition. */
  private decodedShare(type: ProbeType, from: number, to: number): number {
    const intervals = this.decodedActive[type];
    if (to <= from) return intervals.some(([a, b]) => a <= from && from <= b) ? 1 : 0;
    let covered = 0;
    for (const [a, b] of intervals) covered += Math.max(0, Math.min(b, to) - Math.max(a, from));
    return covered / (to - from);
  }

  /** Decorates a decoded-rendition event with its rendition and, for black/freeze, its scope. */
  async describeDecoded(event: DefectEvent): Promise<DefectEvent> {
    // Sound read from a rendition of its own is named by it; everything else by the pictures'.
    const sound = event.type.startsWith('audio.')
      ? this.renditions.find((x) => x.decoded && x.audio)
      : undefined;
    const r = sound ?? this.decoded;
    const detail: DefectEvent['detail'] = { ...event.detail, rendition: r.ref };
    const type = event.type as ProbeType;
    const others = this.sampledPictures;
    if (others.length > 0 && PROBE_TYPES.includes(type) && this.probeTypes.includes(type)) {
      let verdict = this.scopes.get(event.dedupKey);
      if (!verdict && event.state === 'raised') {
        verdict = await this.judgeScope(type, event.start);
        this.scopes.set(event.dedupKey, verdict);
      }
      if (verdict) Object.assign(detail, verdict);
      if (event.state === 'cleared') this.scopes.delete(event.dedupKey);
    }
    return { ...event, detail };
  }

  /**
   * Looks at the other renditions' key frames over the source time where the decoded one went
   * black or still, fetching the segments that cover it; waits at most about three target
   * durations. All show it: `all`; any does not: `rendition`.
   */
  private async judgeScope(type: ProbeType, start: number): Promise<ScopeVerdict> {
    const clock = this.options.clock;
    const from = clock.sourceTimeOf(start) ?? 0;
    const others = this.sampledPictures;
    const td = Math.max(...[this.decoded, ...others].map((r) => r.targetDuration));
    const rule = type === 'video.black' ? this.options.thresholds.black : this.options.thresholds.freeze;
    const want = from + rule.minDuration + 2 * td;
    const deadline = Date.now() + (3 * td + this.options.thresholds.delivery.segmentTimeout) * 1000;
    let to = want;
    while (!this.stopped && Date.now() < deadline) {
      // The window ends where the decoded condition ended, or at `want`.
      const interval = this.decodedActive[type].find(([a, b]) => a <= from + 0.5 && b >= from);
      const decodedNow = clock.sourceTimeOf(clock.mediaTime) ?? from;
      const extent = interval ? interval[1] : from;
      to = decodedNow > extent + 0.5 ? Math.min(extent, want) : want;
      const settled = decodedNow > extent + 0.5 || extent >= want;
      await Promise.all(others.map((r) => this.cover(r, from, to)));
      if (settled && others.every((r) => this.covered(r, to))) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const votes = others.map((r) => this.verdict(r, type, from, to));
    const agree = votes.filter((v) => v === true).length;
    const scope: DefectScope = votes.includes(false) || agree === 0 ? 'rendition' : 'all';
    this.options.logger.info({ type, from, to, votes, scope }, 'scope of a content defect across the ladder');
    return { scope, renditionsChecked: votes.filter((v) => v !== null).length };
  }

  /** True when a rendition's samples reach `to` (or its newest segment is probed). */
  private covered(r: Rendition, to: number): boolean {
    const newest = r.samples[r.samples.length - 1]?.pts ?? Number.NEGATIVE_INFINITY;
    return newest >= to || (r.segments.size > 0 && r.probed.has(r.last));
  }

  /** Probes the listed segments of a rendition that (by its anchors) overlap [from, to]. */
  private async cover(r: Rendition, from: number, to: number): Promise<void> {
    if (r.busy || r.segments.size === 0) return;
    if (r.probed.size === 0) return this.fetchSegment(r, r.last);
    const [anchorMsn, anchorPts] = [...r.probed.entries()].reduce((a, b) => (b[0] > a[0] ? b : a));
    const startOf = (msn: number): number => {
      let t = anchorPts;
      if (msn >= anchorMsn)
        for (let m = anchorMsn; m < msn; m++) t += r.segments.get(m)?.duration ?? r.targetDuration;
      else for (let m = msn; m < anchorMsn; m++) t -= r.segments.get(m)?.duration ?? r.targetDuration;
      return t;
    };
    for (let msn = r.first; msn <= r.last; msn++) {
      const s = r.segments.get(msn);
      if (!s || r.probed.has(msn)) continue;
      const a = startOf(msn);
      if (a + s.duration > from && a < to) {
        await this.fetchSegment(r, msn);
        return;
      }
    }
  }

  /** Does this rendition show the condition over [from, to]? null: not enough key frames to say. */
  private verdict(r: Rendition, type: ProbeType, from: number, to: number): boolean | null {
    const inside = r.samples.filter((s) => s.pts >= from - 0.05 && s.pts <= to + 0.05);
    if (type === 'video.black') {
      if (inside.length === 0) return null;
      return inside.every((s) => s.blackRatio >= this.options.thresholds.black.pictureRatio);
    }
    if (inside.length < 2) return null;
    return inside.every((s, i) => i === 0 || thumbChange(inside[i - 1].thumb, s.thumb) <= KEYFRAME_NOISE);
  }

  // ---- the periodic judgement -----------------------------------------------------------------

  /** Turns what the polls and probes found since the last tick into each rendition's observations. */
  tick(): void {
    const clock = this.options.clock;
    const t = clock.mediaTime;
    for (const r of this.renditions) {
      const since = r.lastT ?? t;
      for (const type of this.deliveryTypes) {
        const detail =
          type === 'delivery.playlist_stale'
            ? r.stale
            : type === 'delivery.variant_missing'
              ? this.missingNow(r)
              : type === 'delivery.manifest_invalid'
                ? r.invalid
                : r.faults[type];
        r.tracker.observe({
          type,
          t: since,
          duration: t - since,
          active: detail != null,
          detail: detail ?? undefined,
        });
      }
      r.faults = {};
      for (const d of r.transport) d.onTransport(r.tsErrors ?? NO_TRANSPORT_ERRORS, since, t - since);
      r.tsErrors = null;
      r.lastT = t;
      if (!r.decoded && !r.audio) this.judgeSamples(r);
    }
  }

  /**
   * A rendition's own key frames, judged once the decoder has passed their time (so the decoded
   * rendition's view of the same moment is known): a still or black picture that the decoded
   * rendition did not show is that rendition's defect.
   */
  private judgeSamples(r: Rendition): void {
    const clock = this.options.clock;
    const decodedAt = clock.sourceTimeOf(clock.mediaTime);
    if (decodedAt === null) return;
    const spacing = 2.5 * Math.max(this.options.thresholds.delivery.sampleSeconds, r.targetDuration);
    const fresh = r.samples.filter((s) => s.pts > r.judgedUpTo && s.pts <= decodedAt);
    const previous = r.samples.filter((s) => s.pts <= r.judgedUpTo).pop();
    let prev = previous;
    for (const s of fresh) {
      const t = clock.mediaTimeOf(s.pts);
      if (t === null) break;
      if (this.probeTypes.includes('video.black')) {
        const black = s.blackRatio >= this.options.thresholds.black.pictureRatio;
        r.tracker.observe({
          type: 'video.black',
          t,
          duration: prev ? Math.min(s.pts - prev.pts, r.targetDuration) : r.targetDuration,
          active: black && this.decodedShare('video.black', s.pts, s.pts) < 0.5,
          detail: { blackRatio: Math.round(s.blackRatio * 1000) / 1000 },
        });
      }
      if (prev && this.probeTypes.includes('video.freeze') && s.pts - prev.pts <= spacing) {
        const change = thumbChange(prev.thumb, s.thumb);
        const from = clock.mediaTimeOf(prev.pts) as number;
        r.tracker.observe({
          type: 'video.freeze',
          t: from,
          duration: s.pts - prev.pts,
          active: change <= KEYFRAME_NOISE && this.decodedShare('video.freeze', prev.pts, s.pts) < 0.5,
          detail: { keyframeChange: Math.round(change * 100) / 100 },
        });
      }
      prev = s;
      r.judgedUpTo = s.pts;
    }
  }

  /** An event of one rendition's tracker: names the rendition, and how a content defect was seen. */
  private describe(event: DefectEvent, r: Rendition): DefectEvent {
    const detail: DefectEvent['detail'] = { ...event.detail, rendition: r.ref };
    if (event.type.startsWith('transport.')) Object.assign(detail, { seenBy: 'segment' });
    else if (!isDeliveryType(event.type))
      Object.assign(detail, { scope: 'rendition', seenBy: 'key-frame probe' });
    return { ...event, detail };
  }
}
