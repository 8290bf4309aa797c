/**
 * One stream's in-memory pipeline: input → converter → detectors → alarm tracker → events. The
 * input is the source itself, the worker's UDP/RTP tap (TapInput) or an HLS/DASH ladder
 * (LadderInput). Files run once; live inputs can be run again after a failure (the supervisor's
 * job) with the same detectors, alarms and media clock, so media time stays the source's own
 * across restarts.
 */

import type { DefectEvent } from '../../shared/events.js';
import { AlarmTracker } from '../alarms/AlarmTracker.js';
import { alarmTiming } from '../alarms/hysteresis.js';
import { Converter, type ConverterOptions, converterArgs } from '../converter/Converter.js';
import { SourceOpenError } from '../converter/errors.js';
import { MediaClock } from '../converter/MediaClock.js';
import { openRecorded } from '../converter/openRecorded.js';
import { probeInput } from '../converter/probe.js';
import type { StartedFfmpeg } from '../converter/StartedFfmpeg.js';
import { slateContext } from '../converter/slate.js';
import { isSegmentedKind } from '../converter/sourceKind.js';
import type { TrackInfo } from '../converter/types.js';
import type { AdBreaks } from '../delivery/AdBreaks.js';
import { CaptionsDetector } from '../detectors/CaptionsDetector.js';
import { DetectorSet } from '../detectors/DetectorSet.js';
import { MAX_SEGMENT_ALLOWANCE, type StreamLossDetector } from '../detectors/StreamLossDetector.js';
import type { Observation } from '../detectors/types.js';
import type { Exchange } from '../egress/GuardProxy.js';
import type { TransportReport } from '../transport/TsAnalyzer.js';
import { ArrivalLog } from './ArrivalLog.js';
import { decodedMedia } from './decodedMedia.js';
import { EventPath } from './EventPath.js';
import { PICTURE_SECONDS } from './Evidence.js';
import { checkRecordedTransport } from './FileTransport.js';
import { LadderInput } from './LadderInput.js';
import { type ContinueFrom, ProfileSwitch } from './ProfileSwitch.js';
import { type TapInput, tapFor } from './TapInput.js';
import type { PipelineOptions, RunResult } from './types.js';

/** Seconds a segmented source's decoder may take to deliver its first media before it counts as hung. */
const OPENING_STALL_SECONDS = 15;

/** Runs the detectors of one stream over one or more converter runs. */
export class StreamPipeline {
  readonly tracker: AlarmTracker;
  private readonly detectors: DetectorSet;
  private readonly loss: StreamLossDetector | null;
  private converter: Converter | null = null;
  /** Replaced only when a file continues from an earlier point (ProfileSwitch). */
  private clock: MediaClock;
  private readonly profile: ProfileSwitch;
  /** A transport stream file's report (per PID, PCR figures) once its transport was checked. */
  transportReport: TransportReport | null = null;
  private readonly segmented: boolean;
  private readonly arrivals = new ArrivalLog();
  private lastMediaWallMs: number | null = null;
  private tracksReported = false;
  /** The last run read the input to its end (exit 0): a closed playlist. */
  private lastRunEnded = false;
  private lastRunStalled = false;
  /** The current run has handed on media. */
  private runDelivered = false;
  private stopped = false;
  private readonly abort = new AbortController();
  private source: string;
  private inputArgs: string[];
  /** A UDP/RTP source with transport checks: read in the worker and relayed to ffmpeg. */
  private readonly tap: TapInput | null;
  /** An http source: the ladder of an HLS or DASH source (delivery checks, the ladder's scope). */
  private readonly ladder: LadderInput;
  /** Ad breaks signalled by SCTE-35 in a UDP/RTP source's transport stream. */
  private readonly breaks: AdBreaks | null;
  /** Where every event goes: named with its rendition, through the inhibitor, to options.onEvent. */
  private readonly events: EventPath;

  constructor(private readonly options: PipelineOptions) {
    this.source = options.source;
    this.inputArgs = options.inputArgs ?? [];
    this.segmented = isSegmentedKind(options.kind);
    this.profile = new ProfileSwitch(options.decodeProfile === 'full', !options.live, options.logger);
    this.clock = this.newClock();
    const emit = (o: Observation) => {
      this.tracker.observe(o);
      this.ladder.noteDecoded(o);
    };
    const context = {
      thresholds: options.thresholds,
      emit,
      live: options.live,
      segmented: this.segmented,
      expect: options.expect,
      // A file whose timeline has discontinuities cannot be continued from an earlier point.
      decodeEveryPicture: (reason: string) => {
        if (!options.live && this.clock.discontinuities > 0) return;
        // Asked from the running converter's media: it is stopped (handing nothing more on) and
        // the run goes on decoding all.
        if (this.converter && this.profile.ask('av.desync', reason)) this.converter.stop(true);
      },
      ...slateContext(options.slate, options.logger),
    };
    this.detectors = new DetectorSet(options.detectors, context, options.stageTimes);
    this.loss = this.detectors.loss;
    const evidence = options.evidence;
    this.events = new EventPath({
      send: evidence ? (e) => options.onEvent(evidence.attach(e)) : options.onEvent,
      live: options.live,
      detectors: options.detectors,
      causeWaitSeconds: () => (this.loss?.allowance ?? options.thresholds.loss.minDuration) + 1,
      clearDelaySeconds: (type) => alarmTiming(type, options.thresholds).flapWindow,
      logger: options.logger,
    });
    this.tracker = new AlarmTracker({
      streamId: options.streamId,
      thresholds: options.thresholds,
      onEvent: (event) => this.events.decoded(event, this.ladder),
      wallClock: options.live ? (t) => this.wallAt(t) : undefined,
    });
    const tapped = tapFor(
      options,
      this.detectors.transport,
      this.clock,
      (t) => this.wallAt(t),
      this.events.emit,
      (o) => this.tracker.observe(o),
      () => this.stopped,
    );
    this.tap = tapped?.tap ?? null;
    this.breaks = tapped?.breaks ?? null;
    const captions = this.captions;
    this.ladder = new LadderInput(
      {
        ...options,
        onEvent: this.events.emit,
        observe: (o) => this.tracker.observe(o),
        // captions.missing of an HLS stream: judged segment by segment.
        onSegment: captions ? (f, t, d) => captions.onSegment(f, t, d) : undefined,
      },
      this.clock,
      (t) => this.wallAt(t),
      this.loss,
      () => this.stopped,
    );
  }

  private newClock(): MediaClock {
    const { options } = this;
    return new MediaClock({
      live: options.live,
      segmented: this.segmented,
      // The loss rule decides what an outage is (it knows the wait between segments).
      outageSeconds: () =>
        this.loss?.allowance ??
        options.thresholds.loss.minDuration + (this.segmented ? MAX_SEGMENT_ALLOWANCE : 0),
    });
  }

  private wallAt(t: number): Date {
    return new Date(this.arrivals.wallAt(t, Date.now()));
  }

  /**
   * Continues the media timeline an earlier monitor of this live stream left (a worker that
   * died or let the unit go): `mediaTime` was decoded at wall time `atMs`. Call before start().
   */
  resumeClock(mediaTime: number, atMs: number): void {
    this.clock.resume(mediaTime, atMs);
  }

  /** Re-opens alarms raised before a restart (EventPath.restore). Call before start(). */
  restoreAlarms(events: DefectEvent[]): void {
    this.events.restore(events, { tracker: this.tracker, ladder: this.ladder, loss: this.loss });
  }

  /** A download ffmpeg made through the guard proxy (the decoded rendition's segments). */
  onExchange(exchange: Exchange): void {
    this.ladder.onExchange(exchange);
  }

  /** A document of this stream's own that the guard proxy serves ffmpeg (a DASH ladder's playlists). */
  document(path: string): string | null {
    return this.ladder.document(path);
  }

  /** Where the decoder reads when it is not the source itself (the transport tap's relay). */
  get decoderInput(): string | null {
    if (this.tap?.decoderInput) return this.tap.decoderInput;
    const ladder = this.ladder.ladder;
    return ladder && ladder.decoderUrl !== this.source ? ladder.decoderUrl : null;
  }

  /** Closed-caption services the stream's video carried (captions.missing sees them). */
  get captionServices(): string[] {
    return this.captions?.serviceList ?? [];
  }

  /** The stream's captions.missing rule, if it has one. */
  private get captions(): CaptionsDetector | undefined {
    return this.detectors.all.find((d): d is CaptionsDetector => d instanceof CaptionsDetector);
  }

  /** What the decoder decodes, and why every picture when a rule asked for it. */
  get decoding(): { decoding: 'reference' | 'full'; fullReason?: string } {
    return this.profile.state;
  }

  /** Newest media time decoded, seconds, continuous across restarts. */
  get currentMediaTime(): number {
    return this.clock.mediaTime;
  }

  /**
   * A segmented source's decoder that has had nothing for (almost) as long as the loss rule allows
   * is restarted before the rule judges: FFmpeg's HLS reader sometimes hangs on a live playlist
   * that is fine, and a fresh reader tells a hung reader from a source that stopped.
   */
  private segmentedStallSeconds(): number {
    // Opening (playlist, first segments, FFmpeg's own probing) is not a stall.
    if (!this.runDelivered) return OPENING_STALL_SECONDS;
    const allowance = this.loss?.allowance ?? this.options.thresholds.loss.minDuration;
    return Math.max(2.5, allowance - 1);
  }

  /** True when media is overdue under the loss rule (between segments of HLS is not overdue). */
  mediaOverdue(nowMs: number): boolean {
    if (this.loss) return this.loss.overdue(nowMs);
    return (
      this.lastMediaWallMs === null ||
      nowMs - this.lastMediaWallMs > this.options.thresholds.loss.minDuration * 1000
    );
  }

  /** Wall-clock time (ms) when the newest media arrived; null before any. */
  get lastMediaAt(): number | null {
    return this.lastMediaWallMs;
  }

  /** Changes what the next run opens (a pinned address, the guard proxy) without touching state. */
  setSource(source: string, inputArgs: string[]): void {
    this.source = source;
    this.inputArgs = inputArgs;
  }

  /** Probes and decodes the input once, until it ends, fails, stalls, or stop() is called. */
  async runOnce(): Promise<RunResult> {
    const { options } = this;
    const result: RunResult = {
      tracks: null,
      exit: null,
      error: null,
      frames: 0,
      audioChunks: 0,
      decodeErrors: 0,
      ended: false,
    };
    // Wall-clock rules run from the probe on: a source that never answers is a loss too.
    const ticker = options.live ? setInterval(() => this.tick(), 500) : null;
    try {
      return await this.probeAndDecode(result);
    } finally {
      if (ticker) clearInterval(ticker);
    }
  }

  /** An FFmpeg message with the tap's relay address (what FFmpeg read) put back to the source's. */
  private sourceNamed(text: string): string {
    if (this.tap) return this.tap.sourceNamed(text, this.source);
    // FFmpeg saw the guard proxy's 502: the proxy knows what the origin did.
    const unreachable = /\b5XX\b|\b502\b/.test(text) ? this.options.upstreamError?.() : undefined;
    return unreachable ? `${text} (origin unreachable: ${unreachable})` : text;
  }

  /** The input ffmpeg opens: the ladder's rendition, the tap's relay, or the source itself. */
  private input(): Promise<string> {
    if (this.options.kind === 'http') return this.ladder.input(this.source);
    return this.tap ? this.tap.input(this.source) : Promise.resolve(this.source);
  }

  private async probeAndDecode(result: RunResult): Promise<RunResult> {
    const { options } = this;
    const log = options.logger;
    let tracks: TrackInfo;
    let source: string;
    // A recorded file's converter starts at once and says itself what the file holds.
    let started: StartedFfmpeg | null = null;
    try {
      source = await this.input();
      this.loss?.waitingFor('probing the source');
      const opened =
        !options.live && options.kind === 'file'
          ? await openRecorded(
              (guess) => converterArgs(source, this.converterOptions(guess, null)),
              this.abort.signal,
            )
          : null;
      started = opened?.started ?? null;
      tracks =
        opened?.tracks ??
        (await probeInput(source, {
          kind: options.kind,
          inputArgs: this.inputArgs,
          signal: this.abort.signal,
        }));
    } catch (e) {
      if (!(e instanceof SourceOpenError)) throw e;
      // FFmpeg read the tap's loopback relay: the user knows the source's address, not that one.
      const named = this.sourceNamed(e.message);
      const error = named === e.message ? e : new SourceOpenError(named, this.source);
      result.error = error;
      log.warn({ err: error.message }, 'source cannot be opened');
      if (options.live) this.loss?.sourceFailed(error.message, Date.now());
      return result;
    }
    try {
      return await this.decode(result, source, tracks, started);
    } finally {
      // Not taken (stopped first, or the transport check failed): nobody will read it.
      if (started && !started.taken) started.discard();
    }
  }

  /** Runs the converter over an opened input (taking `started` for its first run), to the end. */
  private async decode(
    result: RunResult,
    source: string,
    tracks: TrackInfo,
    started: StartedFfmpeg | null,
  ): Promise<RunResult> {
    const { options } = this;
    const log = options.logger;
    if (this.stopped) return result;
    result.tracks = tracks;
    log.info({ video: tracks.video, audio: tracks.audio, format: tracks.formatName }, 'source opened');
    // Files count from their first sample; live inputs from the first sample the monitor saw.
    if (!options.live && tracks.startTime !== null) this.clock.setOrigin(tracks.startTime);
    if (!this.tracksReported) {
      this.detectors.tracks(tracks);
      this.tracksReported = true;
      // The first open's grace runs from the source's answer: a probe slowed by a burst of opens
      // on a busy machine is not the source lost (a probe that fails is, at once).
      if (options.live) this.loss?.converterRestarting(Date.now());
    }
    this.runDelivered = false;
    await this.detectors.ready();
    // A recorded transport stream: TR 101 290 on its bytes, as on a live feed (before the decode).
    this.transportReport ??= await checkRecordedTransport(options, source, this.detectors.transport);
    this.loss?.waitingFor('the first media from the decoder');
    const handlers = decodedMedia({
      result,
      profile: this.profile,
      detectors: this.detectors,
      logger: log,
      evidence: options.evidence,
      onSound: options.onSound,
      advance: (t, wallMs) => {
        this.runDelivered = true;
        this.arrivals.record(t, wallMs);
        this.lastMediaWallMs = wallMs;
        options.onProgress?.(t, tracks);
      },
    });
    let next: ContinueFrom | null = null;
    for (;;) {
      if (next?.seekSeconds != null) {
        // A file continues from earlier on its own timeline: a fresh clock with the same origin.
        this.clock = this.newClock();
        if (tracks.startTime !== null) this.clock.setOrigin(tracks.startTime);
        this.detectors.renew(next.rule);
      } else if (next && options.live) this.loss?.converterRestarting(Date.now());
      // The first run takes the converter a recorded file's open started.
      const converter = new Converter(
        source,
        { ...this.converterOptions(tracks, next), ...(next === null && started ? { started } : {}) },
        handlers,
      );
      this.converter = converter;
      try {
        result.exit = await converter.run();
        if (result.exit.lastError) result.exit.lastError = this.sourceNamed(result.exit.lastError);
      } finally {
        this.converter = null;
      }
      next = this.stopped ? null : this.profile.continueFrom();
      if (!next) break;
    }
    // Killed, crashed or restarted by us: the monitor's own converter went away, not (yet) the
    // source. A stall or the end of the input (a closed playlist) is the source's doing, except
    // a segmented source's first stall after it delivered: that may be the reader's own hang.
    const ended = result.exit.code === 0 && !result.exit.stopped;
    result.ended = ended;
    const delivered = result.frames + result.audioChunks > 0;
    const readerHang = this.segmented && result.exit.stalled && !this.lastRunStalled && delivered;
    this.lastRunEnded = ended;
    this.lastRunStalled = result.exit.stalled;
    if (options.live && (!result.exit.stalled || readerHang) && !ended && !this.stopped)
      this.loss?.converterRestarting(Date.now());
    // A live source that ended (a closed playlist) is lost for that reason, not a silent one.
    if (options.live && ended && this.segmented) this.loss?.sourceEnded();
    log.info(
      {
        exit: result.exit,
        discontinuities: this.clock.discontinuities,
        rereadSamples: this.clock.rereadSamples,
        frames: result.frames,
        audioChunks: result.audioChunks,
        decodeErrors: result.decodeErrors,
      },
      'converter ended',
    );
    return result;
  }

  /** The options of the converter run that decodes `tracks` (after `next`: a continuation). */
  private converterOptions(tracks: TrackInfo, next: ContinueFrom | null): ConverterOptions {
    const { options } = this;
    const seek = next?.seekSeconds != null ? ['-ss', next.seekSeconds.toFixed(3)] : [];
    return {
      kind: options.kind,
      tracks,
      realtime: options.realtime,
      logger: options.logger,
      stallSeconds: this.segmented ? () => this.segmentedStallSeconds() : options.stallSeconds,
      threads: options.threads,
      skipNonReference: this.profile.skipNonReference,
      inputArgs: [...this.inputArgs, ...seek],
      clock: this.clock,
      afterEnd: next ? false : this.lastRunEnded,
      thumbnailSeconds: options.evidence ? PICTURE_SECONDS : 0,
    };
  }

  /**
   * The first open starts now (after waiting its turn for an open slot): the loss rule's opening
   * grace runs from here, not from when the unit was handed to this worker.
   */
  firstOpenStarting(): void {
    this.loss?.converterRestarting(Date.now());
  }

  /** The source is unusable before ffmpeg even starts (e.g. refused by policy): counts as loss. */
  sourceUnavailable(reason: string): void {
    this.loss?.sourceFailed(reason, Date.now());
  }

  /** Stops the current converter only; the caller runs the pipeline again (jump to the live edge). */
  restartConverter(): void {
    this.converter?.stop();
  }

  /** The ffmpeg process id while a converter runs. */
  get converterPid(): number | undefined {
    return this.converter?.pid;
  }

  /** Lets wall-clock rules run while no converter is running (between restarts of a live input). */
  tick(): void {
    const now = Date.now();
    this.ladder.tick();
    this.breaks?.tick();
    this.events.tick(now);
    this.detectors.tick(now, this.clock.mediaTime);
    this.tap?.tick(now, this.clock.mediaTime);
  }

  /** The input is over: closes every open condition at the end of the media. */
  finish(): void {
    const end = this.clock.mediaTime;
    this.detectors.end(end);
    this.tracker.finish(end);
  }

  /** Resolves once every event handed to the pipeline so far has reached `onEvent` (held ladder raises included). */
  settled(): Promise<void> {
    return this.events.settled();
  }

  /** Stops the converter (if running); alarms stay as they are until clearAll. */
  stop(): void {
    this.stopped = true;
    this.abort.abort();
    this.converter?.stop();
    this.tap?.stop();
    this.ladder.stop();
  }
}
