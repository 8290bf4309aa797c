/**
 * HLS delivery monitoring by the worker itself: the multivariant playlist, every rendition's media
 * playlist (polled as RFC 8216 §6.3.4 tells a client to), the decoded rendition's segments (seen
 * through the guard proxy as ffmpeg fetches them: no second download), and sampled segments of
 * the other renditions, whose key frames are looked at for black and frozen pictures.
 *
 * Each rendition has its own alarm tracker, so every delivery event names its rendition. A black
 * or frozen picture found by the decoded rendition's detectors is checked against the other
 * renditions' key frames over the same source time (RFC 8216 §6.2.4: matching content in variant
 * streams has matching timestamps) before it is raised: seen on all, `scope: "all"` (source or
 * encoder); on the decoded one only, `scope: "rendition"`. A rendition whose own key frames stop
 * (or go black) while the decoded one plays is raised for that rendition.
 */
import HLS from 'hls-parser';
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
import type { Detail, Observation } from '../detectors/types.js';
import { FetchError, type Fetched, guardedGet } from './guardedGet.js';
import { KEYFRAME_NOISE, type KeyframeSample, probeKeyframes, thumbChange } from './keyframeProbe.js';

HLS.setOptions({ silent: true });

const MAX_PLAYLIST_BYTES = 4 << 20;
const MAX_SEGMENT_BYTES = 64 << 20;
/** Renditions watched at most (the decoded one and those nearest it in bandwidth): a hostile master cannot fan out. */
export const MAX_RENDITIONS = 12;
/** Shortest reload interval, seconds, whatever target duration a playlist claims. */
const MIN_TARGET_DURATION = 1;
/** Consecutive failed loads of a media playlist that make its variant missing. */
const MISSING_AFTER_FAILURES = 2;
/** Key-frame samples kept per rendition, seconds of source time. */
const SAMPLE_HISTORY_SECONDS = 60;
/** Content types a key-frame probe can check on another rendition. */
type ProbeType = 'video.black' | 'video.freeze';
const PROBE_TYPES: readonly ProbeType[] = ['video.black', 'video.freeze'];

export interface HlsMonitorOptions {
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
  onEvent: (event: DefectEvent) => void;
  ffmpeg?: string;
}

interface SegmentInfo {
  msn: number;
  uri: string;
  duration: number;
  discontinuity: number;
  map?: string;
}

type Faults = Partial<Record<DeliveryType, Detail>>;

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
  faults: Faults = {};
  stale: Detail | null = null;
  missing: Detail | null = null;
  lastT: number | null = null;
  nextSample = -1;
  busy = false;
  /** Media sequence numbers already probed, and the first key frame time of each (anchors). */
  probed = new Map<number, number>();
  samples: KeyframeSample[] = [];
  judgedUpTo = Number.NEGATIVE_INFINITY;
  maps = new Map<string, Buffer>();
  timer: NodeJS.Timeout | null = null;

  constructor(
    readonly ref: RenditionRef,
    readonly decoded: boolean,
    tracker: (r: Rendition) => AlarmTracker,
  ) {
    this.tracker = tracker(this);
  }
}

/** Raised content events of the decoded rendition wait for this verdict on the others. */
interface ScopeVerdict {
  scope: DefectScope;
  renditionsChecked: number;
}

export class HlsMonitor {
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

  private constructor(
    private readonly options: HlsMonitorOptions,
    refs: RenditionRef[],
    decodedIndex: number,
    /** What ffmpeg opens: the decoded rendition's media playlist (or the master, see open()). */
    readonly decoderUrl: string,
  ) {
    this.deliveryTypes = options.types.filter(isDeliveryType);
    this.probeTypes = PROBE_TYPES.filter((t) => options.types.includes(t));
    this.renditions = refs.map(
      (ref, i) =>
        new Rendition(
          ref,
          i === decodedIndex,
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
  }

  /**
   * Loads the source URL. A multivariant playlist gives a ladder; a media playlist a ladder of
   * one; anything else (a file over http, a DASH manifest) is not HLS: null.
   */
  static async open(url: string, options: HlsMonitorOptions): Promise<HlsMonitor | null> {
    const fetched = await guardedGet(url, {
      security: options.security,
      timeoutMs: options.thresholds.delivery.segmentTimeout * 1000,
      maxBytes: MAX_PLAYLIST_BYTES,
      // Anything but a playlist (a file, an endless TS over http, a DASH manifest) is left to ffmpeg.
      sniff: (first) => first.subarray(0, 7).toString('latin1') === '#EXTM3U' || first.length < 7,
    });
    const text = fetched.body.toString('utf8');
    if (fetched.abandoned || !text.startsWith('#EXTM3U')) return null;
    const playlist = HLS.parse(text);
    if (!playlist.isMasterPlaylist) return new HlsMonitor(options, [{ uri: url, bandwidth: 0 }], 0, url);
    const variants = playlist.variants.filter((v) => !v.isIFrameOnly && v.uri);
    if (variants.length === 0) throw new FetchError('multivariant playlist lists no variant', url);
    const refs: RenditionRef[] = variants.map((v) => ({
      uri: new URL(v.uri, fetched.url).href,
      bandwidth: v.bandwidth,
      ...(v.resolution ? { resolution: `${v.resolution.width}x${v.resolution.height}` } : {}),
    }));
    const order = refs.map((_, i) => i).sort((a, b) => refs[a].bandwidth - refs[b].bandwidth);
    let decoded = options.decode === 'lowest' ? order[0] : order[order.length - 1];
    let decoderUrl = refs[decoded].uri;
    // Sound in a separate rendition group: ffmpeg needs the master to pair it with the picture,
    // and then decodes the first variant listed.
    if (variants[decoded].audio.some((a) => a.uri)) {
      decoded = 0;
      decoderUrl = url;
    }
    const kept = order
      .filter((i) => i !== decoded)
      .sort(
        (a, b) =>
          Math.abs(refs[a].bandwidth - refs[decoded].bandwidth) -
          Math.abs(refs[b].bandwidth - refs[decoded].bandwidth),
      )
      .slice(0, MAX_RENDITIONS - 1);
    const watched = refs.map((_, i) => i).filter((i) => i === decoded || kept.includes(i));
    if (watched.length < refs.length)
      options.logger.warn(
        { listed: refs.length, watched: watched.length },
        'ladder too large; watching the renditions nearest the decoded one',
      );
    return new HlsMonitor(
      options,
      watched.map((i) => refs[i]),
      watched.indexOf(decoded),
      decoderUrl,
    );
  }

  get decoded(): Rendition {
    return this.renditions.find((r) => r.decoded) as Rendition;
  }

  start(): void {
    for (const r of this.renditions) void this.poll(r);
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
    for (const r of this.renditions) if (r.timer) clearTimeout(r.timer);
  }

  /** Alarms of renditions open before a restart (delivery, or found by a key-frame probe). */
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
      const text = fetched.body.toString('utf8');
      if (!text.startsWith('#EXTM3U')) throw new FetchError('not a playlist', fetched.url, fetched.status);
      const playlist = HLS.parse(text);
      if (playlist.isMasterPlaylist)
        throw new FetchError('a multivariant playlist where a media playlist was listed', fetched.url);
      r.failures = 0;
      r.missing = null;
      changed = this.compare(r, playlist, fetched.url);
    } catch (e) {
      if (this.stopped) return;
      r.failures++;
      const status = e instanceof FetchError ? e.status : undefined;
      if (r.failures >= MISSING_AFTER_FAILURES)
        r.missing = { reason: (e as Error).message, ...(status ? { status } : {}), failures: r.failures };
    }
    if (this.stopped || r.ended) return;
    // RFC 8216 §6.3.4: reload after the target duration; after an unchanged reload, half of it.
    const wait = (changed ? r.targetDuration : r.targetDuration / 2) * 1000;
    r.timer = setTimeout(() => void this.poll(r), Math.max(250, started + wait - Date.now()));
  }

  /** Compares a fresh load with the last one; true when the playlist changed. */
  private compare(r: Rendition, playlist: HLS.types.MediaPlaylist, base: string): boolean {
    const rule = this.options.thresholds.delivery;
    r.targetDuration = Math.max(MIN_TARGET_DURATION, playlist.targetDuration || r.targetDuration);
    const fresh = playlist.segments.map(
      (s): SegmentInfo => ({
        msn: s.mediaSequenceNumber,
        uri: new URL(s.uri, base).href,
        duration: s.duration,
        discontinuity: s.discontinuitySequence,
        ...(s.map?.uri ? { map: new URL(s.map.uri, base).href } : {}),
      }),
    );
    const now = Date.now();
    const wasLoaded = r.loaded && r.segments.size > 0;
    const prevFirst = wasLoaded ? r.first : 0;
    const prevLast = wasLoaded ? r.last : -1;
    const first = fresh[0]?.msn ?? playlist.mediaSequenceBase ?? 0;
    const last = fresh.length ? fresh[fresh.length - 1].msn : first - 1;
    const changed = !wasLoaded || first !== prevFirst || last !== prevLast || playlist.endlist !== r.ended;
    if (wasLoaded) {
      if (first < prevFirst)
        this.fault(r, 'delivery.sequence', {
          reason: 'media sequence went back',
          from: prevFirst,
          to: first,
        });
      else if (first > prevLast + 1)
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
    for (const s of fresh) {
      if (s.msn <= prevLast) continue;
      if (Math.round(s.duration) > playlist.targetDuration)
        this.fault(r, 'delivery.segment_duration', {
          msn: s.msn,
          duration: s.duration,
          targetDuration: playlist.targetDuration,
        });
    }
    r.segments = new Map(fresh.map((s) => [s.msn, s]));
    r.byUri = new Map(fresh.map((s) => [s.uri, s]));
    r.first = first;
    r.last = last;
    r.loaded = true;
    r.ended = playlist.endlist;
    if (changed) {
      r.lastChangeAt = now;
      r.stale = null;
    } else if (!playlist.endlist && now - r.lastChangeAt > rule.staleFactor * r.targetDuration * 1000) {
      r.stale = {
        secondsUnchanged: Math.round((now - r.lastChangeAt) / 100) / 10,
        targetDuration: r.targetDuration,
        mediaSequence: last,
      };
    }
    if (fresh.length && last > prevLast) this.sample(r);
    return changed;
  }

  private fault(r: Rendition, type: DeliveryType, detail: Detail): void {
    if (!this.deliveryTypes.includes(type)) return;
    r.faults[type] ??= detail;
    this.options.logger.debug({ rendition: r.ref.uri, type, ...detail }, 'delivery fault');
  }

  // ---- segments --------------------------------------------------------------------------------

  /** A request ffmpeg made through the guard proxy: the decoded rendition's segments. */
  onExchange(exchange: Exchange): void {
    const r = this.decoded;
    const segment = r.byUri.get(exchange.url);
    if (!segment) return;
    this.judgeDownload(r, segment, exchange.status, exchange.ms, exchange.error);
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
      } catch (e) {
        if (this.stopped) return;
        const err = e as FetchError;
        this.judgeDownload(r, s, err.status ?? 0, 0, err.message);
        return;
      }
      if (r.decoded || this.probeTypes.length === 0 || this.stopped) return;
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
    r.samples.push(...samples.filter((s) => s.pts > r.judgedUpTo));
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
    const r = this.decoded;
    const detail: DefectEvent['detail'] = { ...event.detail, rendition: r.ref };
    const type = event.type as ProbeType;
    const others = this.renditions.filter((x) => !x.decoded);
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
    const others = this.renditions.filter((r) => !r.decoded);
    const td = Math.max(...this.renditions.map((r) => r.targetDuration));
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
              ? r.missing
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
      r.lastT = t;
      if (!r.decoded) this.judgeSamples(r);
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
    if (!isDeliveryType(event.type)) Object.assign(detail, { scope: 'rendition', seenBy: 'key-frame probe' });
    return { ...event, detail };
  }
}
