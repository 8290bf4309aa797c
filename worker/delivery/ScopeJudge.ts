/**
 * The other renditions' pictures, through their key frames: the newest segment of each sampled
 * every `sampleSeconds` (and downloaded, so its delivery is judged too), and the scope of the
 * decoded rendition's black and frozen pictures — looked for on every other rendition over the
 * same source time (RFC 8216 §6.2.4: matching content has matching timestamps) before the event
 * goes out: seen on all, `scope: "all"`; on the decoded one only, `scope: "rendition"`. A
 * rendition whose own key frames go black or still while the decoded one plays is raised for it.
 */
import type { DefectEvent, DefectScope, DefectType } from '../../shared/events.js';
import type { Logger } from '../../shared/logger.js';
import type { Thresholds } from '../../shared/thresholds.js';
import type { MediaClock } from '../converter/MediaClock.js';
import type { Observation } from '../detectors/types.js';
import type { FetchError, Fetched } from './guardedGet.js';
import { KEYFRAME_NOISE, type KeyframeSample, probeKeyframes, thumbChange } from './keyframeProbe.js';
import { type Rendition, SAMPLE_HISTORY_SECONDS } from './Rendition.js';
import type { SegmentInfo } from './segments.js';

/** Content types a key-frame probe can check on another rendition. */
export type ProbeType = 'video.black' | 'video.freeze';
export const PROBE_TYPES: readonly ProbeType[] = ['video.black', 'video.freeze'];
const MAX_SEGMENT_BYTES = 64 << 20;

/** Raised content events of the decoded rendition wait for this verdict on the others. */
interface ScopeVerdict {
  scope: DefectScope;
  renditionsChecked: number;
}

export interface ScopeJudgeOptions {
  thresholds: Thresholds;
  clock: MediaClock;
  logger: Logger;
  types: readonly DefectType[];
  /** The decoder's own downloads are seen through the guard proxy (not fetched again). */
  proxyObserves: boolean;
  ffmpeg?: string;
  renditions: readonly Rendition[];
  fetch(url: string, maxBytes: number): Promise<Fetched>;
  signal: AbortSignal;
  stopped(): boolean;
  /** A download of a rendition's segment, finished (judged like the decoder's own). */
  downloaded(
    r: Rendition,
    s: SegmentInfo,
    download: { status: number; ms: number; error?: string; body?: Buffer },
  ): void;
}

export class ScopeJudge {
  /** Intervals (source time) where the decoded rendition showed black or a still picture. */
  private readonly decodedActive: Record<ProbeType, [number, number][]> = {
    'video.black': [],
    'video.freeze': [],
  };
  private readonly scopes = new Map<string, ScopeVerdict>();
  readonly probeTypes: ProbeType[];

  constructor(private readonly options: ScopeJudgeOptions) {
    this.probeTypes = PROBE_TYPES.filter((t) => options.types.includes(t));
  }

  /** The rendition whose pictures are decoded. */
  private get decoded(): Rendition {
    return this.options.renditions.find((r) => r.decoded && !r.audio) as Rendition;
  }

  /** The other picture renditions: looked at through their key frames. */
  private get sampledPictures(): Rendition[] {
    return this.options.renditions.filter((r) => !r.decoded && !r.audio);
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

  // ---- sampling --------------------------------------------------------------------------------

  /**
   * Fetches the newest segment of a rendition every `sampleSeconds`: the decoded one only when
   * the proxy cannot see its downloads, the others for their segments and key frames.
   */
  sample(r: Rendition): void {
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
        const fetched = await this.options.fetch(s.uri, MAX_SEGMENT_BYTES);
        bytes = fetched.body;
        this.options.downloaded(r, s, { status: fetched.status, ms: fetched.ms, body: bytes });
      } catch (e) {
        if (this.options.stopped()) return;
        const err = e as FetchError;
        this.options.downloaded(r, s, { status: err.status ?? 0, ms: 0, error: err.message });
        return;
      }
      if (r.decoded || r.audio || this.probeTypes.length === 0 || this.options.stopped()) return;
      const init = s.map ? await this.initSection(r, s.map) : null;
      const samples = await probeKeyframes(init ? Buffer.concat([init, bytes]) : bytes, {
        pixelLuma: this.options.thresholds.black.pixelLuma,
        signal: this.options.signal,
        ffmpeg: this.options.ffmpeg,
      });
      this.addSamples(r, msn, samples);
    } catch (e) {
      if (!this.options.stopped())
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
    const fetched = await this.options.fetch(uri, MAX_SEGMENT_BYTES);
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
      ? this.options.renditions.find((x) => x.decoded && x.audio)
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
    const { clock, thresholds } = this.options;
    const from = clock.sourceTimeOf(start) ?? 0;
    const others = this.sampledPictures;
    const td = Math.max(...[this.decoded, ...others].map((r) => r.targetDuration));
    const rule = type === 'video.black' ? thresholds.black : thresholds.freeze;
    const want = from + rule.minDuration + 2 * td;
    const deadline = Date.now() + (3 * td + thresholds.delivery.segmentTimeout) * 1000;
    let to = want;
    while (!this.options.stopped() && Date.now() < deadline) {
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

  /**
   * A rendition's own key frames, judged once the decoder has passed their time (so the decoded
   * rendition's view of the same moment is known): a still or black picture that the decoded
   * rendition did not show is that rendition's defect.
   */
  judgeSamples(r: Rendition): void {
    const { clock, thresholds } = this.options;
    const decodedAt = clock.sourceTimeOf(clock.mediaTime);
    if (decodedAt === null) return;
    const spacing = 2.5 * Math.max(thresholds.delivery.sampleSeconds, r.targetDuration);
    const fresh = r.samples.filter((s) => s.pts > r.judgedUpTo && s.pts <= decodedAt);
    const previous = r.samples.filter((s) => s.pts <= r.judgedUpTo).pop();
    let prev = previous;
    for (const s of fresh) {
      const t = clock.mediaTimeOf(s.pts);
      if (t === null) break;
      if (this.probeTypes.includes('video.black')) {
        const black = s.blackRatio >= thresholds.black.pictureRatio;
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
}
