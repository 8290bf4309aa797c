/**
 * The media converter: one ffmpeg child per stream that decodes once and hands the detectors
 * luma frames and PCM audio in memory, each paired with its media time.
 */
import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from '../../shared/logger.js';
import { originalText } from '../egress/plainUrl.js';
import { ByteQueue, FramePool } from './ByteQueue.js';
import { analysisScale, ffmpegArgs, ROW_STEP } from './ffmpegArgs.js';
import type { MediaClock } from './MediaClock.js';
import { MediaOrder } from './MediaOrder.js';
import { StartedFfmpeg } from './StartedFfmpeg.js';
import type { SourceKind } from './sourceKind.js';
import { parseStderrLine } from './stderrLines.js';
import { Thumbnails } from './Thumbnails.js';
import type { AudioChunk, TrackInfo, VideoFrame } from './types.js';

/** Pictures after a decoder error within which fftools is expected to name the damaged one. */
const REORDER_WINDOW = 16;

interface DecodeErrors {
  count: number;
  /** The first error line, for the operator. */
  message: string;
  /**
   * `picture`: the picture is the damaged one (fftools flagged it). `hole`: the decoder dropped
   * the pictures before it; the damage is dated at the last picture before the hole, whose
   * display duration spans it.
   */
  at: 'picture' | 'hole';
}

export interface ConverterHandlers {
  onVideo(frame: VideoFrame): void;
  onAudio(chunk: AudioChunk): void;
  /** A decoder reported damaged data; t is the media time of the picture being decoded. */
  onDecodeError(t: number, message: string): void;
  /** A thumbnail (JPEG) of the picture at media time t (options.thumbnailSeconds). */
  onThumbnail?(jpeg: Buffer, t: number): void;
}

export interface ConverterOptions {
  kind: SourceKind;
  tracks: TrackInfo;
  realtime: boolean;
  logger: Logger;
  /** Kill ffmpeg when it produces no media for this many seconds. */
  stallSeconds?: number | (() => number);
  threads?: number;
  /** Decode reference pictures only (the `reference` decode profile). */
  skipNonReference?: boolean;
  inputArgs?: string[];
  /** The stream's media clock, shared by every run of the converter. */
  clock: MediaClock;
  /** The previous run read the input to its end (see MediaClock.beginRun). */
  afterEnd?: boolean;
  /** A JPEG thumbnail at most this often (media seconds); absent or 0: none. */
  thumbnailSeconds?: number;
  /**
   * ffmpeg already running with exactly converterArgs(source, these options) (a recorded file's,
   * started while its tracks were read: openRecorded.ts): taken over instead of starting one.
   */
  started?: StartedFfmpeg;
}

/** The ffmpeg arguments a Converter runs with. */
export function converterArgs(source: string, options: ConverterOptions): string[] {
  return ffmpegArgs(source, {
    kind: options.kind,
    tracks: options.tracks,
    realtime: options.realtime,
    threads: options.threads,
    skipNonReference: options.skipNonReference,
    inputArgs: options.inputArgs,
    thumbnailSeconds: options.thumbnailSeconds,
  });
}

export interface ConverterExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stalled: boolean;
  stopped: boolean;
  /** The last error-level line ffmpeg printed, for the operator. */
  lastError: string | null;
}

/**
 * A picture ffmpeg announced on stderr, waiting for its bytes. Built field by field, in one order
 * (never by spreading the parsed line into a bigger object): V8 then gives every one the same
 * shape, where spreading took a slow path for each of the thousands of lines a minute.
 */
interface AnnouncedPicture {
  width: number;
  height: number;
  pictType: string;
  scale: number | null;
  /** Media time; null for a picture that repeats media already analysed (its bytes are skipped). */
  t: number | null;
  wallMs: number;
  /** From the line after it; null until that line is read. */
  fullRange: boolean | null;
  errors: DecodeErrors | null;
}

/** A sound chunk ffmpeg announced on stderr, waiting for its bytes (t null: skipped, as above). */
interface AnnouncedSound {
  channels: number;
  sampleRate: number;
  samples: number;
  t: number | null;
  wallMs: number;
}

/** Runs ffmpeg for one input until it ends, is stopped, or stalls. */
export class Converter {
  private child: ChildProcess | null = null;
  private readonly video = new ByteQueue();
  private readonly audio = new ByteQueue();
  private videoHeaders: AnnouncedPicture[] = [];
  private audioHeaders: AnnouncedSound[] = [];
  private readonly frameDuration: number;
  /** Media time of the newest picture ffmpeg announced: the decoder is working just past it. */
  private decodingT = 0;
  private fullRange = false;
  private lastMediaAt = Date.now();
  private stalled = false;
  private stopped = false;
  private lastError: string | null = null;
  /** Set once ffmpeg has finished probing and started the real decode. */
  private decoding = false;
  /** Set at the first intra-coded picture (always true for inputs without video). */
  private keyframeSeen: boolean;
  private pendingFrame: VideoFrame | null = null;
  private pendingFrameErrors: DecodeErrors | null = null;
  /**
   * Decoder errors not yet tied to a picture. The decoder works ahead of the pictures it hands out
   * (frame reordering), so an error belongs to the picture fftools next reports as corrupt; when
   * none is within REORDER_WINDOW pictures (the damaged picture was dropped, or the decoder does
   * not flag concealment), the errors are dated where the decoder was when it reported them.
   */
  private unplacedErrors: (Omit<DecodeErrors, 'at'> & { t: number; headersSince: number }) | null = null;
  private corruptNext = false;
  /** Media time of the newest announced picture, and the recent gaps between pictures. */
  private lastHeaderT: number | null = null;
  private readonly recentGaps: number[] = [];
  private scratch: Uint8Array | null = null;
  private spareScratch: Uint8Array | null = null;
  /**
   * A recorded file's media, handed on in media-time order (MediaOrder.ts); null for live inputs.
   * Its pictures are held, so each has a luma buffer of its own, from `lumaPool`.
   */
  private readonly order: MediaOrder | null;
  private readonly lumaPool = new FramePool();
  /**
   * Sound chunks' bytes, the same way (live inputs too: a chunk is handed on at once there): a
   * new zeroed array each tenth of a second cost more than the rules' work on a quiet stream.
   */
  private readonly soundPool = new FramePool();
  /** stop(true): nothing more is handed on. */
  private discarding = false;
  private readonly thumbnails = new Thumbnails((jpeg, t) => this.handlers.onThumbnail?.(jpeg, t));
  /** This run makes thumbnails: their pictures' times are noted. */
  private thumbnailing = false;

  constructor(
    private readonly source: string,
    private readonly options: ConverterOptions,
    private readonly handlers: ConverterHandlers,
  ) {
    this.frameDuration = 1 / (options.tracks.video?.frameRate || 25);
    this.order =
      options.kind === 'file' && !options.realtime
        ? new MediaOrder({ video: options.tracks.video !== null, audio: options.tracks.audio !== null })
        : null;
    this.keyframeSeen = !options.tracks.video;
    options.clock.beginRun(options.afterEnd);
  }

  /** Starts ffmpeg and resolves when it has exited and every frame it produced was handed on. */
  run(): Promise<ConverterExit> {
    const args = converterArgs(this.source, this.options);
    let started = this.options.started;
    if (started && !isDeepStrictEqual([...started.args], args)) {
      // Started for other options than these: not the process this run is.
      started.discard();
      started = undefined;
    }
    started ??= new StartedFfmpeg(args);
    this.options.logger.debug({ args: started.args }, 'spawning ffmpeg');
    const thumbnails = Boolean(this.options.thumbnailSeconds && this.options.tracks.video);
    this.thumbnailing = thumbnails;
    const child = started.child;
    this.child = child;
    const { videoPipe, audioPipe, stderr: stderrPipe } = started;
    started.take({
      line: (line) => this.onStderrLine(line),
      video: (bytes) => this.video.feed(bytes, () => this.drainVideo(false)),
      audio: (bytes) => this.audio.feed(bytes, () => this.drainAudio()),
    });
    // Always drained: a pipe left full would stall the whole decode.
    const thumbPipe = thumbnails ? (child.stdio as unknown as Readable[])[5] : null;
    thumbPipe?.on('data', (b: Buffer) => this.thumbnails.bytes(b));
    const stallAfter = this.options.stallSeconds ?? 15;
    const watchdog = setInterval(() => {
      const stallSeconds = typeof stallAfter === 'function' ? stallAfter() : stallAfter;
      if ((Date.now() - this.lastMediaAt) / 1000 > stallSeconds && !this.stopped) {
        this.stalled = true;
        this.options.logger.warn({ stallSeconds }, 'ffmpeg stalled, killing it');
        child.kill('SIGKILL');
      }
    }, 500);
    const closed = (stream: Readable | null) =>
      new Promise<void>((resolve) => {
        if (!stream || stream.readableEnded || stream.destroyed) resolve();
        else stream.once('close', resolve);
      });
    return new Promise((resolve) => {
      child.on('close', async (code, signal) => {
        clearInterval(watchdog);
        await Promise.all([closed(videoPipe), closed(audioPipe), closed(thumbPipe), closed(stderrPipe)]);
        started.end();
        const spawnError = started.spawnError;
        this.drainVideo(true);
        this.drainAudio();
        this.order?.end();
        this.thumbnails.end();
        if (spawnError) this.lastError = `cannot run ffmpeg: ${(spawnError as Error).message}`;
        resolve({ code, signal, stalled: this.stalled, stopped: this.stopped, lastError: this.lastError });
      });
    });
  }

  /**
   * Stops ffmpeg: SIGTERM, then SIGKILL if it has not gone within two seconds.
   * @param handOnNothingMore nothing the run decoded but has not handed on yet goes on (a run
   * stopped to be continued otherwise, ProfileSwitch: how much of its media was still in the pipes
   * and held would otherwise vary from run to run)
   */
  stop(handOnNothingMore = false): void {
    if (handOnNothingMore) this.discarding = true;
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.stopped = true;
    const child = this.child;
    child.kill('SIGTERM');
    setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }, 2000).unref();
  }

  /** The ffmpeg process id, while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  private onStderrLine(line: string): void {
    if (!line) return;
    const parsed = parseStderrLine(line);
    switch (parsed.kind) {
      case 'video': {
        if (parsed.pictType === 'I') this.keyframeSeen = true;
        const t = this.options.clock.place('video', parsed.pts, this.frameDuration);
        if (t !== null) this.decodingT = t + this.frameDuration;
        if (this.thumbnailing) this.thumbnails.placed(parsed.pts, t);
        const gap = t === null ? null : this.gapBefore(t);
        const hole = gap !== null && this.unplacedErrors !== null && this.isHole(gap);
        let errors: DecodeErrors | null = null;
        if (this.unplacedErrors && (this.corruptNext || hole)) {
          const { count, message } = this.unplacedErrors;
          errors = { count, message, at: this.corruptNext ? 'picture' : 'hole' };
          this.unplacedErrors = null;
        } else if (this.unplacedErrors && ++this.unplacedErrors.headersSince > REORDER_WINDOW) {
          this.reportErrors(this.unplacedErrors.t, this.unplacedErrors);
          this.unplacedErrors = null;
        }
        this.corruptNext = false;
        this.videoHeaders.push({
          width: parsed.width,
          height: parsed.height,
          pictType: parsed.pictType,
          scale: parsed.scale,
          t,
          wallMs: Date.now(),
          fullRange: null,
          errors,
        });
        break;
      }
      case 'thumbnail':
        this.thumbnails.header(parsed.pts);
        break;
      case 'corruptFrame':
        this.corruptNext = true;
        break;
      case 'range': {
        this.fullRange = parsed.fullRange;
        const open = this.videoHeaders.findLast((h) => h.fullRange === null);
        if (open) open.fullRange = parsed.fullRange;
        this.drainVideo(false);
        break;
      }
      case 'audio':
        this.audioHeaders.push({
          channels: parsed.channels,
          sampleRate: parsed.sampleRate,
          samples: parsed.samples,
          t: this.options.clock.place('audio', parsed.pts, parsed.samples / parsed.sampleRate),
          wallMs: Date.now(),
        });
        this.drainAudio();
        break;
      case 'decodeError':
        // Errors while ffmpeg probes the input come from a throw-away decoder reading ahead, and a
        // live input joined mid-GOP has no references until its first key frame: neither is damage.
        if (this.decoding && this.keyframeSeen) {
          this.unplacedErrors ??= { t: this.decodingT, headersSince: 0, count: 0, message: '' };
          this.unplacedErrors.count++;
          this.unplacedErrors.message ||= `${parsed.decoder}: ${parsed.message}`;
        }
        break;
      case 'other':
        if (parsed.text === 'Stream mapping:') this.decoding = true;
        if (parsed.level === 'error' || parsed.level === 'fatal') {
          this.lastError = originalText(parsed.text);
          this.options.logger.debug({ ffmpeg: parsed.text }, 'ffmpeg error line');
        }
        break;
    }
  }

  private drainVideo(atEnd: boolean): void {
    const tracksScale = this.options.tracks.video ? analysisScale(this.options.tracks.video.width) : 1;
    while (this.videoHeaders.length > 0) {
      const header = this.videoHeaders[0];
      const size = header.width * header.height;
      if (this.video.length < size || (header.fullRange === null && !atEnd && this.videoHeaders.length < 2))
        break;
      this.videoHeaders.shift();
      this.lastMediaAt = Date.now();
      if (header.t === null) {
        this.video.skip(size);
        continue;
      }
      const luma = this.video.take(size, this.lumaBuffer(size));
      const frame: VideoFrame = {
        t: header.t,
        wallMs: header.wallMs,
        duration: this.frameDuration,
        interval: this.frameDuration,
        width: header.width,
        height: header.height,
        luma,
        fullRange: header.fullRange ?? this.fullRange,
        pictType: header.pictType,
        scale: header.scale ?? tracksScale,
        rowStep: ROW_STEP,
      };
      this.emitVideo(frame, header.errors);
    }
    if (atEnd) {
      if (this.pendingFrame) this.handOn(this.pendingFrame, this.pendingFrameErrors);
      this.pendingFrame = null;
      if (this.unplacedErrors) this.reportErrors(this.unplacedErrors.t, this.unplacedErrors);
      this.unplacedErrors = null;
    }
  }

  /** Holds each frame until the next arrives so its duration is the real gap (variable frame rate). */
  private emitVideo(frame: VideoFrame, errors: DecodeErrors | null): void {
    const previous = this.pendingFrame;
    const hole = errors?.at === 'hole' ? errors : null;
    const own = this.pendingFrameErrors;
    // Errors that left a hole belong to the picture before it (its duration spans the hole).
    const previousErrors = hole && own ? { ...own, count: own.count + hole.count } : (hole ?? own);
    this.pendingFrame = frame;
    this.pendingFrameErrors = hole ? null : errors;
    if (!previous) {
      if (hole) this.reportErrors(frame.t, hole);
      return;
    }
    const gap = frame.t - previous.t;
    if (gap > 0 && gap < 1) previous.duration = gap;
    this.handOn(previous, previousErrors);
  }

  /** The gap from the previous announced picture (null for the first or a step back); remembers it. */
  private gapBefore(t: number): number | null {
    const previous = this.lastHeaderT;
    this.lastHeaderT = t;
    if (previous === null || t <= previous) return null;
    const gap = t - previous;
    this.recentGaps.push(gap);
    if (this.recentGaps.length > 9) this.recentGaps.shift();
    return gap;
  }

  /**
   * Whether pictures before a gap are missing: well beyond the stream's usual gap (the nominal
   * interval when every picture is decoded, a few with reference decoding). Asked only while
   * decoder errors wait for a picture.
   */
  private isHole(gap: number): boolean {
    const usual = [...this.recentGaps].sort((a, b) => a - b)[this.recentGaps.length >> 1];
    return gap > Math.max(2.5 * this.frameDuration, 1.5 * usual);
  }

  /** A buffer for the next picture's luma. */
  private lumaBuffer(size: number): Uint8Array {
    if (this.order) return this.lumaPool.get(size);
    // Two scratch frames alternate: the detectors are done with a frame before the next but one.
    [this.scratch, this.spareScratch] = [this.spareScratch, this.scratch];
    if (this.scratch?.length !== size) this.scratch = new Uint8Array(size);
    return this.scratch;
  }

  /** Hands a picture to the detectors, after the decoder errors that damaged it. */
  private handOn(frame: VideoFrame, errors: DecodeErrors | null): void {
    const hand = () => {
      if (this.discarding) return;
      if (errors) this.reportErrorsNow(frame.t, errors);
      this.handlers.onVideo(frame);
      if (!this.order) return;
      this.lumaPool.handedOn(frame.luma);
    };
    if (this.order) this.order.video(frame.t, hand);
    else hand();
  }

  /** Decoder errors at media time t, in their turn among the pictures. */
  private reportErrors(t: number, errors: Pick<DecodeErrors, 'count' | 'message'>): void {
    if (this.order) this.order.video(t, () => this.reportErrorsNow(t, errors));
    else this.reportErrorsNow(t, errors);
  }

  private reportErrorsNow(t: number, errors: Pick<DecodeErrors, 'count' | 'message'>): void {
    if (this.discarding) return;
    for (let i = 0; i < errors.count; i++) this.handlers.onDecodeError(t, errors.message);
  }

  private drainAudio(): void {
    while (this.audioHeaders.length > 0) {
      const header = this.audioHeaders[0];
      const bytes = header.samples * header.channels * 4;
      if (this.audio.length < bytes) break;
      this.audioHeaders.shift();
      this.lastMediaAt = Date.now();
      if (header.t === null) {
        this.audio.skip(bytes);
        continue;
      }
      // An array of its own (aligned, as Float32Array needs), back in the pool two chunks later.
      const raw = this.audio.take(bytes, this.soundPool.get(bytes));
      const chunk: AudioChunk = {
        t: header.t,
        wallMs: header.wallMs,
        sampleRate: header.sampleRate,
        channels: header.channels,
        samples: new Float32Array(raw.buffer, raw.byteOffset, bytes / 4),
      };
      const hand = () => {
        if (!this.discarding) this.handlers.onAudio(chunk);
        this.soundPool.handedOn(raw);
      };
      if (this.order) this.order.audio(chunk.t, hand);
      else hand();
    }
  }
}
