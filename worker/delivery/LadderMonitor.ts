/**
 * Delivery monitoring of an ABR ladder by the worker itself. HLS: the multivariant playlist and
 * every rendition's media playlist (polled as RFC 8216 §6.3.4 tells a client to). DASH: the MPD
 * (MpdPoller.ts), each video Representation a rendition; the decoder reads the chosen one through
 * HLS playlists written from it (dashManifest.ts). Both: the decoded rendition's segments (seen
 * through the guard proxy as ffmpeg fetches them: no second download), and sampled segments of
 * the other renditions, whose key frames are looked at for black and frozen pictures
 * (ScopeJudge.ts).
 *
 * This file opens the ladder (openLadder.ts; which renditions, which one decoded: ladderChoice.ts),
 * polls HLS media playlists, takes the downloads the guard proxy reports, and each tick turns what
 * was found into every rendition's observations. Each rendition (Rendition.ts) has its own alarm tracker, so
 * every delivery event names its rendition. The rules themselves: playlistRules.ts (playlist
 * diffs, stale, missing variants) and segmentChecks.ts (downloads, TR 101 290 on TS segments).
 */
import type { DefectEvent, DefectType, DeliveryType } from '../../shared/events.js';
import { isDeliveryType } from '../../shared/events.js';
import { AlarmTracker, type OpenAlarm } from '../alarms/AlarmTracker.js';
import type { MediaClock } from '../converter/MediaClock.js';
import { TransportDetector, type TransportType } from '../detectors/TransportDetector.js';
import type { Detail, Emit, Observation } from '../detectors/types.js';
import type { Exchange } from '../egress/GuardProxy.js';
import { type TransportErrors, TsAnalyzer } from '../transport/TsAnalyzer.js';
import { type AdBreaks, adBreaksFor } from './AdBreaks.js';
import type { DashManifest } from './dashManifest.js';
import { inbandCue } from './emsg.js';
import { FetchError, type Fetched, guardedGet, ManifestRefused } from './guardedGet.js';
import type { LadderRefs } from './ladderChoice.js';
import { MASTER_RELOAD_SECONDS, MasterWatch } from './MasterWatch.js';
import { MpdPoller } from './MpdPoller.js';
import { type LadderLoadOptions, loadLadder, MAX_PLAYLIST_BYTES, parseIn } from './openLadder.js';
import { applyList, hlsLimits, missingNow, type RuleSink } from './playlistRules.js';
import { Rendition } from './Rendition.js';
import { ScopeJudge } from './ScopeJudge.js';
import { judgeDownload, judgeInProgress, readSegment, segmentCues } from './segmentChecks.js';
import { SegmentStarts } from './segmentStart.js';
import type { SegmentInfo } from './segments.js';

export { MAX_AUDIO_RENDITIONS, MAX_RENDITIONS } from './ladderChoice.js';
export type { SegmentInfo } from './segments.js';

/** Consecutive failed loads of a media playlist that make its variant missing. */
const MISSING_AFTER_FAILURES = 2;
/** A tick without a segment checked: nothing wrong seen. */
const NO_TRANSPORT_ERRORS: TransportErrors = Object.freeze(new TsAnalyzer().take());

export interface LadderMonitorOptions extends LadderLoadOptions {
  streamId: string;
  /** Enabled types: the delivery rules run, and black/freeze enable the key-frame probes. */
  types: readonly DefectType[];
  clock: MediaClock;
  wallClock: (mediaTime: number) => Date;
  /** Segments the decoder fetches are seen through the guard proxy. */
  proxyObserves: boolean;
  onEvent: (event: DefectEvent) => void;
  /** Observations of the stream as a whole (the SCTE-35 checks of its cues): the stream's tracker. */
  observe?: Emit;
  /**
   * Each TS segment of the decoded pictures as the decoder fetches it: what it carried (its
   * captions, for captions.missing), from media time `t` (where it starts) for `duration`.
   */
  onSegment?: (found: TransportErrors, t: number, duration: number) => void;
  ffmpeg?: string;
  /** HLS: seconds between loads of the multivariant playlist (default MASTER_RELOAD_SECONDS). */
  masterReloadSeconds?: number;
}

export class LadderMonitor {
  readonly renditions: Rendition[];
  private readonly abort = new AbortController();
  private stopped = false;
  private readonly deliveryTypes: DeliveryType[];
  /** DASH: the playlists the decoder reads, rewritten at each load of the MPD. */
  private readonly documents = new Map<string, string>();
  private readonly mpd: MpdPoller | null;
  /** HLS from a multivariant playlist: that playlist, still served (when segment errors are on). */
  private master: MasterWatch | null = null;
  private readonly scope: ScopeJudge;
  /** Ad breaks the decoded rendition's playlist signals (when `ad.break` or an `scte35.*` check is on). */
  private readonly breaks: AdBreaks | null;
  /** Renditions whose playlist is being loaded now. */
  private readonly polling = new Set<Rendition>();
  /** Segment URLs the decoder fetched before this monitor's copy of the playlist listed them. */
  private awaiting: { url: string; startsAt: number | null }[] = [];
  /** Where fetched segments start (TS PTS; fMP4 with the initialization sections fetched). */
  private readonly starts = new SegmentStarts();
  private readonly rules: RuleSink = {
    fault: (r, type, detail) => this.fault(r, type, detail),
    listed: (r) => this.scope.sample(r),
  };

  private constructor(
    private readonly options: LadderMonitorOptions,
    ladder: LadderRefs,
    /** What ffmpeg opens: the decoded media playlist, the master (see open()), or document(). */
    readonly decoderUrl: string,
    /** DASH: the MPD's URL and each rendition's Representation id (pictures, then sound). */
    dash: { url: string; ids: string[] } | null = null,
  ) {
    this.deliveryTypes = options.types.filter(isDeliveryType);
    this.breaks = adBreaksFor(
      options.types,
      options.thresholds,
      options.streamId,
      options.clock,
      options.wallClock,
      options.onEvent,
      options.observe,
    );
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
    this.scope = new ScopeJudge({
      thresholds: options.thresholds,
      clock: options.clock,
      logger: options.logger,
      types: options.types,
      proxyObserves: options.proxyObserves,
      ffmpeg: options.ffmpeg,
      renditions: this.renditions,
      fetch: (url, maxBytes) => this.fetch(url, maxBytes),
      signal: this.abort.signal,
      stopped: () => this.stopped,
      downloaded: (r, s, download) => {
        this.judge(r, s, download);
        if (download.body && r.transport.length) readSegment(r, s, download.body, options.thresholds);
      },
    });
    this.mpd = dash
      ? new MpdPoller({
          ...dash,
          renditions: this.renditions,
          decoded: () => this.decoded,
          fetch: (url, maxBytes) => this.fetch(url, maxBytes),
          parse: async (fetched) => (await parseIn(options, 'mpd', fetched)) as DashManifest,
          stopped: () => this.stopped,
          rule: options.thresholds.delivery,
          sink: this.rules,
          documents: this.documents,
        })
      : null;
  }

  /**
   * Loads the source URL (openLadder.ts): a ladder gives a monitor; anything else (a file over
   * http, an endless TS) null, and ffmpeg reads the URL alone.
   */
  static async open(url: string, options: LadderMonitorOptions): Promise<LadderMonitor | null> {
    const plan = await loadLadder(url, options);
    if (!plan) return null;
    const monitor = new LadderMonitor(options, plan.ladder, plan.decoderUrl, plan.dash?.refs ?? null);
    if (plan.master) monitor.documents.set('master.m3u8', plan.master);
    if (plan.dash) monitor.mpd?.apply(plan.dash.mpd);
    if (plan.masterUrl && monitor.deliveryTypes.includes('delivery.segment_error'))
      monitor.master = new MasterWatch({
        url: plan.masterUrl,
        reloadSeconds: options.masterReloadSeconds ?? MASTER_RELOAD_SECONDS,
        fetch: (url, maxBytes) => monitor.fetch(url, maxBytes),
        parse: (fetched) => parseIn(options, 'hls', fetched),
        stopped: () => monitor.stopped,
        tracker: { streamId: options.streamId, thresholds: options.thresholds, wallClock: options.wallClock },
        onEvent: options.onEvent,
      });
    return monitor;
  }

  /** The rendition whose pictures are decoded. */
  get decoded(): Rendition {
    return this.renditions.find((r) => r.decoded && !r.audio) as Rendition;
  }

  start(): void {
    if (this.mpd) this.mpd.start();
    else for (const r of this.renditions) void this.poll(r);
    this.master?.start();
  }

  /** A document the guard proxy serves the decoder (DASH: `master.m3u8`, `video.m3u8`, `audio.m3u8`). */
  document(path: string): string | null {
    return this.documents.get(path) ?? null;
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
    for (const r of this.renditions) if (r.timer) clearTimeout(r.timer);
    this.mpd?.stop();
    this.master?.stop();
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
      else if (uri !== null && uri === this.master?.url) this.master.restore(alarm);
    }
  }

  /** A scope decided before a restart, so the clear of a restored alarm keeps its raise's slot. */
  rememberScope(event: DefectEvent): void {
    this.scope.rememberScope(event);
  }

  /** Every observation of the decoded rendition's detectors (black and freeze are kept). */
  noteDecoded(o: Observation): void {
    this.scope.noteDecoded(o);
  }

  /** Decorates a decoded-rendition event with its rendition and, for black/freeze, its scope. */
  describeDecoded(event: DefectEvent): Promise<DefectEvent> {
    return this.scope.describeDecoded(event);
  }

  private fetch(url: string, maxBytes: number): Promise<Fetched> {
    return guardedGet(url, {
      security: this.options.security,
      timeoutMs: this.options.thresholds.delivery.segmentTimeout * 1000,
      maxBytes,
      signal: this.abort.signal,
    });
  }

  // ---- HLS media playlists ---------------------------------------------------------------------

  /**
   * The decoder fetched a segment this monitor's copy of the playlist does not list yet (its reload
   * came first): reload the decoded rendition now, and let the ad-break cues of that segment take
   * effect once it is listed — before the decoder has decoded far into it.
   */
  private unlisted(exchange: Exchange): void {
    // HLS only: a DASH ladder's renditions are read from the MPD (MpdPoller).
    if (!this.breaks || this.mpd || exchange.inProgress || exchange.status >= 300 || exchange.error) return;
    const r = this.decoded;
    if (!r || this.polling.has(r) || r.ended) return;
    if (this.awaiting.length >= 8) this.awaiting.shift();
    this.awaiting.push({ url: exchange.url, startsAt: this.startOf(exchange.body) });
    if (r.timer) clearTimeout(r.timer);
    r.timer = null;
    void this.poll(r);
  }

  private async poll(r: Rendition): Promise<void> {
    if (this.stopped) return;
    this.polling.add(r);
    try {
      await this.load(r);
    } finally {
      this.polling.delete(r);
    }
    // Fetches the decoder made before this copy listed their segments: their cues now.
    if (r === this.decoded && this.awaiting.length) {
      const awaited = this.awaiting;
      this.awaiting = [];
      for (const { url, startsAt } of awaited) {
        const segment = r.byUri.get(url);
        if (segment) this.breaks?.fetched(segment, r.segments.values(), startsAt);
      }
    }
  }

  private async load(r: Rendition): Promise<void> {
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
      changed = applyList(
        r,
        playlist.segments,
        hlsLimits(playlist),
        this.options.thresholds.delivery,
        this.rules,
      );
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

  private fault(r: Rendition, type: DeliveryType, detail: Detail): void {
    if (!this.deliveryTypes.includes(type)) return;
    r.faults[type] ??= detail;
    this.options.logger.debug({ rendition: r.ref.uri, type, ...detail }, 'delivery fault');
  }

  // ---- segments --------------------------------------------------------------------------------

  private judge(
    r: Rendition,
    s: SegmentInfo,
    download: { status: number; ms: number; error?: string },
  ): void {
    judgeDownload(r, s, download, this.options.thresholds.delivery, (x, type, detail) =>
      this.fault(x, type, detail),
    );
  }

  /** A request ffmpeg made through the guard proxy: the decoded renditions' segments (pictures, sound). */
  onExchange(exchange: Exchange): void {
    if (!exchange.inProgress && exchange.status < 300 && this.starts.remember(exchange.url, exchange.body))
      return;
    const r = this.renditions.find((x) => x.decoded && x.byUri.has(exchange.url));
    const segment = r?.byUri.get(exchange.url);
    if (!r || !segment) {
      this.unlisted(exchange);
      return;
    }
    if (exchange.inProgress) {
      // Judged while it runs: past the slow line, a download that has not ended is a fault now.
      judgeInProgress(r, segment, exchange.ms, this.options.thresholds.delivery, (x, type, detail) =>
        this.fault(x, type, detail),
      );
      return;
    }
    this.judge(r, segment, exchange);
    if (exchange.status >= 300 || exchange.error) return;
    const body = exchange.body;
    const pictures = this.breaks !== null && !r.audio;
    const captions = r.audio ? undefined : this.options.onSegment;
    const startsAt = pictures || captions ? this.startOf(body, segment.map) : null;
    // Cues in the segment itself: DASH emsg boxes (the segment's cue, as a playlist's would be),
    // then, after the transport checks, a TS segment's SCTE-35 cue PID (at its splice times).
    if (pictures && this.mpd && body) segment.cue ??= inbandCue(body);
    if (pictures) this.breaks?.fetched(segment, r.segments.values(), startsAt);
    const found =
      body && (r.transport.length || pictures || captions)
        ? readSegment(r, segment, body, this.options.thresholds)
        : null;
    if (!found) return;
    if (pictures) this.breaks?.inBand(segmentCues(r), (pts) => this.options.clock.mediaTimeOf(pts));
    captions?.(found, startsAt ?? this.options.clock.mediaTime, segment.duration);
  }

  /** Where a segment starts on the stream's media timeline (TS: earliest PTS; fMP4: tfdt); null if unknown. */
  private startOf(body: Buffer | undefined, map?: string): number | null {
    const start = this.starts.sourceStart(body, map);
    return start === null ? null : this.options.clock.mediaTimeOf(start);
  }

  // ---- the periodic judgement -----------------------------------------------------------------

  /** Turns what the polls and probes found since the last tick into each rendition's observations. */
  tick(): void {
    this.breaks?.tick();
    const t = this.options.clock.mediaTime;
    this.master?.tick(t);
    for (const r of this.renditions) {
      const since = r.lastT ?? t;
      for (const type of this.deliveryTypes) {
        const detail =
          type === 'delivery.playlist_stale'
            ? r.stale
            : type === 'delivery.variant_missing'
              ? missingNow(r, this.renditions, this.mpd !== null)
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
      if (!r.decoded && !r.audio) this.scope.judgeSamples(r);
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
