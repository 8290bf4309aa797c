/**
 * One stream's in-memory pipeline: converter → detectors → alarm tracker → events. Files run once;
 * live inputs can be run again after a failure (the supervisor's job) with the same detectors and
 * alarms, and media time carried on across the restart so it keeps pace with the wall clock.
 */
import type { DefectEvent, DefectType } from '../../shared/events.js';
import type { Logger } from '../../shared/logger.js';
import type { Thresholds } from '../../shared/thresholds.js';
import { AlarmTracker } from '../alarms/AlarmTracker.js';
import { Converter, type ConverterExit } from '../converter/Converter.js';
import { SourceOpenError } from '../converter/errors.js';
import { probeInput } from '../converter/probe.js';
import type { SourceKind } from '../converter/sourceKind.js';
import type { TrackInfo } from '../converter/types.js';
import { DETECTORS } from '../detectors/index.js';
import { StreamLossDetector } from '../detectors/StreamLossDetector.js';
import type { Detector, Observation } from '../detectors/types.js';

export interface PipelineOptions {
  streamId: string;
  source: string;
  kind: SourceKind;
  /** Live: wall-clock rules apply (stream.loss on silence, wall times on events). */
  live: boolean;
  /** Read at native rate (-re). */
  realtime: boolean;
  thresholds: Thresholds;
  detectors: readonly DefectType[];
  expect: { audio: boolean; video: boolean };
  logger: Logger;
  onEvent: (event: DefectEvent) => void;
  /** Called for every frame's media time; lets callers measure progress and lag. */
  onProgress?: (mediaTime: number, tracks: TrackInfo) => void;
  stallSeconds?: number;
  threads?: number;
  /** Extra ffmpeg/ffprobe input options (e.g. the guarding http proxy). */
  inputArgs?: string[];
}

export interface RunResult {
  tracks: TrackInfo | null;
  exit: ConverterExit | null;
  error: SourceOpenError | null;
  frames: number;
  audioChunks: number;
  decodeErrors: number;
}

/** Runs the detectors of one stream over one or more converter runs. */
export class StreamPipeline {
  readonly tracker: AlarmTracker;
  private readonly detectors: Detector[];
  private readonly loss: StreamLossDetector | null;
  private converter: Converter | null = null;
  private offset = 0;
  private mediaTime = 0;
  private lastMediaWallMs = Date.now();
  private tracksReported = false;
  private stopped = false;
  private readonly abort = new AbortController();
  private source: string;
  private inputArgs: string[];

  constructor(private readonly options: PipelineOptions) {
    this.source = options.source;
    this.inputArgs = options.inputArgs ?? [];
    const emit = (o: Observation) => this.tracker.observe(o);
    const context = { thresholds: options.thresholds, emit, live: options.live, expect: options.expect };
    this.detectors = options.detectors.map((type) => DETECTORS[type](context));
    this.loss = (this.detectors.find((d) => d instanceof StreamLossDetector) as StreamLossDetector) ?? null;
    this.tracker = new AlarmTracker({
      streamId: options.streamId,
      thresholds: options.thresholds,
      onEvent: options.onEvent,
      wallClock: options.live
        ? (t) => new Date(this.lastMediaWallMs - (this.mediaTime - t) * 1000)
        : undefined,
    });
  }

  /** Newest media time decoded, seconds, continuous across restarts. */
  get currentMediaTime(): number {
    return this.mediaTime;
  }

  /** Media time now, extrapolated on the wall clock while nothing arrives (live). */
  private nowMediaTime(): number {
    return this.mediaTime + (Date.now() - this.lastMediaWallMs) / 1000;
  }

  /**
   * Maps a converter timestamp to the stream's media time. On a live input that went quiet, the
   * media clock moves on with the wall clock: when the source comes back with timestamps that
   * ignore the outage (a restarted encoder), the gap is added so media time keeps pace.
   */
  private toMediaTime(t: number): number {
    if (this.options.live) {
      const gap = (Date.now() - this.lastMediaWallMs) / 1000;
      const expected = this.mediaTime + gap;
      if (gap > 2 && t + this.offset < expected - 1) this.offset = expected - t;
    }
    return t + this.offset;
  }

  /** Changes what the next run opens (a pinned address, the guard proxy) without touching state. */
  setSource(source: string, inputArgs: string[]): void {
    this.source = source;
    this.inputArgs = inputArgs;
  }

  /** Probes and decodes the input once, until it ends, fails, stalls, or stop() is called. */
  async runOnce(): Promise<RunResult> {
    const { options } = this;
    const log = options.logger;
    const result: RunResult = {
      tracks: null,
      exit: null,
      error: null,
      frames: 0,
      audioChunks: 0,
      decodeErrors: 0,
    };
    if (this.tracksReported) this.offset = this.nowMediaTime();
    let tracks: TrackInfo;
    try {
      tracks = await probeInput(this.source, {
        kind: options.kind,
        inputArgs: this.inputArgs,
        signal: this.abort.signal,
      });
    } catch (e) {
      if (!(e instanceof SourceOpenError)) throw e;
      result.error = e;
      log.warn({ err: e.message }, 'source cannot be opened');
      if (options.live) this.loss?.sourceFailed(e.message, (Date.now() - this.lastMediaWallMs) / 1000);
      return result;
    }
    if (this.stopped) return result;
    result.tracks = tracks;
    log.info({ video: tracks.video, audio: tracks.audio, format: tracks.formatName }, 'source opened');
    if (!this.tracksReported) {
      for (const d of this.detectors) d.onTracks?.(tracks);
      this.tracksReported = true;
    }
    const advance = (t: number) => {
      if (t > this.mediaTime) this.mediaTime = t;
      this.lastMediaWallMs = Date.now();
      options.onProgress?.(t, tracks);
    };
    const converter = new Converter(
      this.source,
      {
        kind: options.kind,
        tracks,
        realtime: options.realtime,
        logger: log,
        stallSeconds: options.stallSeconds,
        threads: options.threads,
        inputArgs: this.inputArgs,
      },
      {
        onVideo: (frame) => {
          frame.t = this.toMediaTime(frame.t);
          result.frames++;
          advance(frame.t);
          for (const d of this.detectors) d.onVideo?.(frame);
        },
        onAudio: (chunk) => {
          chunk.t = this.toMediaTime(chunk.t);
          result.audioChunks++;
          advance(chunk.t);
          for (const d of this.detectors) d.onAudio?.(chunk);
        },
        onDecodeError: (t, message) => {
          result.decodeErrors++;
          if (result.decodeErrors <= 5) log.debug({ t: t + this.offset, message }, 'decode error');
          for (const d of this.detectors) d.onDecodeError?.(t + this.offset, message);
        },
      },
    );
    this.converter = converter;
    const ticker = options.live ? setInterval(() => this.tick(), 500) : null;
    try {
      result.exit = await converter.run();
    } finally {
      if (ticker) clearInterval(ticker);
      this.converter = null;
    }
    log.info(
      {
        exit: result.exit,
        frames: result.frames,
        audioChunks: result.audioChunks,
        decodeErrors: result.decodeErrors,
      },
      'converter ended',
    );
    return result;
  }

  /** The source is unusable before ffmpeg even starts (e.g. refused by policy): counts as loss. */
  sourceUnavailable(reason: string): void {
    this.loss?.sourceFailed(reason, (Date.now() - this.lastMediaWallMs) / 1000);
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
    for (const d of this.detectors) d.onTick?.(Date.now(), this.mediaTime);
  }

  /** The input is over: closes every open condition at the end of the media. */
  finish(): void {
    const end = this.mediaTime;
    for (const d of this.detectors) d.onEnd?.(end);
    this.tracker.finish(end);
  }

  /** Stops the converter (if running); alarms stay as they are until clearAll. */
  stop(): void {
    this.stopped = true;
    this.abort.abort();
    this.converter?.stop();
  }
}
