/**
 * The one media clock of a stream: maps the source's own timestamps (ffmpeg runs with -copyts, so
 * they are the source's PTS) to media time, continuous across timestamp wraps, discontinuities,
 * splices and restarts of the converter. The wall clock is consulted only where the source's
 * timestamps cannot say how much time passed: across a discontinuity after an outage.
 *
 * Segmented live sources (HLS, DASH) arrive in bursts; a pause between bursts is not media time,
 * and it never moves this clock. A restarted converter of a segmented source re-reads a few
 * segments it has already seen: those samples map to media time already analysed and are dropped.
 */

export type Track = 'video' | 'audio';

export interface MediaClockOptions {
  /** Live input: forward jumps are judged against the wall clock. */
  live: boolean;
  /** Segmented source (HLS/DASH): a restarted converter may re-read recent media. */
  segmented: boolean;
  /**
   * Seconds without media after which the source counts as lost (the loss rule, which for segmented
   * sources includes the wait for the next segment): a gap that long is time that passed, and a
   * discontinuity across it counts the gap as media time. A number, or a function asked each time.
   */
  outageSeconds: number | (() => number);
  /** Clock in milliseconds (tests). */
  now?: () => number;
}

/** Largest backward step (seconds) still taken as jitter between tracks, not a discontinuity. */
const BACKWARD_TOLERANCE = 1;
/** Segmented sources: how far back a restarted converter re-reads a live window, at most, seconds. */
const MAX_REREAD = 60;
/** Largest forward step (seconds) that is plain continuity, not a hole. */
const CONTINUOUS_STEP = 1;
/** Files: largest forward jump taken as a hole in the media rather than a timestamp reset. */
const FILE_MAX_FORWARD = 60;
/** Live: how far media may run ahead of the wall-clock gap (segment bursts) before it is a reset. */
const LIVE_FORWARD_SLACK = 30;

interface TrackState {
  /** Media time where the newest sample of this track ends; null before the first. */
  end: number | null;
  /** True from a converter (re)start until this track's first sample is placed. */
  joining: boolean;
}

/** One stream's media clock; shared by its video and audio, alive as long as the stream is watched. */
export class MediaClock {
  private offset: number | null = null;
  private previousOffset: number | null = null;
  /** Media time of the first sample placed under the current epoch. */
  private epochStart = 0;
  private newest = 0;
  private lastArrivalMs: number | null = null;
  private rereadAll = false;
  /** resume() was called: the first sample continues an earlier monitor's timeline. */
  private resumed = false;
  private readonly tracks: Record<Track, TrackState> = {
    video: { end: null, joining: true },
    audio: { end: null, joining: true },
  };
  private readonly now: () => number;
  /** Timestamp discontinuities seen (splices, source restarts, wraps the demuxer did not fix). */
  discontinuities = 0;
  /** Samples dropped because a restarted converter re-read media already analysed. */
  rereadSamples = 0;

  constructor(private readonly options: MediaClockOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Continues the timeline of an earlier monitor of this live stream (another worker, before a
   * takeover): media time `mediaTime` arrived at wall time `atMs`, and the time since then passed
   * whether or not anyone watched. The first sample is placed that much later; nothing is
   * assumed about the source's timestamps (the new decoder may join the stream anywhere).
   * Ignored once a sample is placed, and for files (their media time is their own).
   */
  resume(mediaTime: number, atMs: number): void {
    if (!this.options.live || this.offset !== null || !(mediaTime > 0)) return;
    this.newest = mediaTime;
    this.lastArrivalMs = Math.min(atMs, this.now());
    this.resumed = true;
  }

  /** Sets media time zero at a source timestamp (a file's start time); otherwise the first sample. */
  setOrigin(pts: number): void {
    if (this.offset === null) this.offset = -pts;
  }

  /**
   * A new converter run starts: its first samples may repeat media or restart the timestamps.
   * @param afterEnd the previous run read its input to the end (a closed playlist is read again
   * from its first segment, however long ago that was)
   */
  beginRun(afterEnd = false): void {
    this.rereadAll = afterEnd;
    this.tracks.video.joining = true;
    this.tracks.audio.joining = true;
  }

  /** Media time of a source timestamp under the current epoch; null before the first sample. */
  mediaTimeOf(pts: number): number | null {
    return this.offset === null ? null : pts + this.offset;
  }

  /** Source timestamp of a media time under the current epoch; null before the first sample. */
  sourceTimeOf(t: number): number | null {
    return this.offset === null ? null : t - this.offset;
  }

  /** Newest media time placed so far (end of the newest sample), seconds. */
  get mediaTime(): number {
    return this.newest;
  }

  /**
   * Places one sample. Returns its media time, or null when it repeats media already analysed
   * (a restarted segmented source re-reading its live window).
   * @param pts the source timestamp in seconds, or null when the decoder gave none
   * @param duration the sample's duration in seconds
   */
  place(track: Track, pts: number | null, duration: number): number | null {
    const state = this.tracks[track];
    const now = this.now();
    const wallGap = this.lastArrivalMs === null ? 0 : (now - this.lastArrivalMs) / 1000;
    let t: number;
    if (pts === null) {
      t = state.end ?? this.newest;
    } else if (this.offset === null) {
      t = this.resumed ? this.newest + wallGap : 0;
      this.offset = t - pts;
      this.epochStart = t;
    } else {
      t = this.fit(state, pts, wallGap);
    }
    if (t === Number.NEGATIVE_INFINITY) {
      // Old media, but the source is delivering: no outage while it is re-read.
      this.rereadSamples++;
      this.lastArrivalMs = now;
      return null;
    }
    state.joining = false;
    state.end = Math.max(state.end ?? t + duration, t + duration);
    if (state.end > this.newest) this.newest = state.end;
    this.lastArrivalMs = now;
    return t;
  }

  /** Media time for pts under the current epoch, a new epoch, or -Infinity for a re-read sample. */
  private fit(state: TrackState, pts: number, wallGap: number): number {
    const offset = this.offset as number;
    const reference = state.end ?? this.newest;
    const candidate = pts + offset;
    const within = (t: number, forward: number) =>
      t >= reference - BACKWARD_TOLERANCE && t <= reference + forward;
    // A restarted converter of a segmented source re-reads the live window (or, for a playlist
    // that was closed, all of it): timestamps inside the span already analysed are not new media.
    if (
      state.joining &&
      this.options.segmented &&
      state.end !== null &&
      candidate < state.end - 0.001 &&
      (this.rereadAll || candidate >= state.end - MAX_REREAD)
    ) {
      return Number.NEGATIVE_INFINITY;
    }
    // After an outage, timestamps that did not run on with the wall clock belong to a source that
    // restarted (or was paused): the outage is media time that passed, not a splice.
    const outage = this.isOutage(wallGap);
    if (outage && candidate < reference + wallGap - CONTINUOUS_STEP) return this.discontinuity(pts, wallGap);
    // Continuous under the current epoch, or a straggler of the previous one (the other track
    // crossed a discontinuity first: decoders and interleaving deliver tracks a little apart).
    const step = CONTINUOUS_STEP + (this.options.live ? wallGap : 0);
    if (within(candidate, step)) return candidate;
    // A track's first sample, anywhere in the span the other track has covered under this epoch:
    // its tracks are not interleaved (an fMP4 fragment holds all its pictures, then all its sound).
    if (
      state.end === null &&
      candidate >= this.epochStart - BACKWARD_TOLERANCE &&
      candidate <= this.newest + step
    )
      return candidate;
    if (this.previousOffset !== null && !state.joining && within(pts + this.previousOffset, step))
      return pts + this.previousOffset;
    // A hole in the media: timestamps jump forward, as far as the wall clock allows (live).
    const maxForward = this.options.live ? wallGap + LIVE_FORWARD_SLACK : FILE_MAX_FORWARD;
    if (within(candidate, maxForward)) return candidate;
    return this.discontinuity(pts, wallGap);
  }

  private isOutage(wallGap: number): boolean {
    if (!this.options.live) return false;
    const after = this.options.outageSeconds;
    return wallGap >= (typeof after === 'function' ? after() : after);
  }

  /**
   * A new epoch: the source's timestamps say nothing about the time in between. After an outage
   * the wall clock does; otherwise the new timestamps continue where the media ended.
   */
  private discontinuity(pts: number, wallGap: number): number {
    const gap = this.isOutage(wallGap) ? wallGap : 0;
    const t = this.newest + gap;
    this.previousOffset = this.offset;
    this.offset = t - pts;
    this.epochStart = t;
    this.discontinuities++;
    return t;
  }
}
