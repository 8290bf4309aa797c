/**
 * The decode profile of one stream across its converter runs. The `reference` profile decodes
 * only the pictures others are predicted from; a rule that cannot judge from those alone (a sync
 * signal's one-picture flashes fall on skipped pictures) asks for every picture, once, and the
 * stream is decoded whole from then on.
 *
 * A live source's converter is simply started again (the stream goes on; the loss rule's restart
 * grace covers the gap). A file is continued where it was, one replay window earlier: the media of
 * that window goes again to the rule that asked (started afresh, so it measures on every picture)
 * and to no other rule, which have seen it already.
 */
import type { MediaType } from '../../shared/events.js';
import type { Logger } from '../../shared/logger.js';

/** Seconds of a file decoded again for the rule that asked (av.desync's window of pairs). */
const REPLAY_SECONDS = 20;

export interface ContinueFrom {
  /** The rule that asked: it is started afresh and alone sees the replayed media. */
  rule: MediaType;
  /** Files: media time to seek to (seconds from the file's start); null for live sources. */
  seekSeconds: number | null;
}

export class ProfileSwitch {
  private every: boolean;
  /** Why every picture is decoded, when a rule asked for it. */
  private reason: string | null = null;
  /** Asked during the current run: the run was stopped to continue with every picture. */
  private pending: { rule: MediaType; reason: string } | null = null;
  /** Newest media (start times) every rule has seen, per track. */
  private videoSeen = Number.NEGATIVE_INFINITY;
  private audioSeen = Number.NEGATIVE_INFINITY;
  /** Replay (files): media up to these times goes to the asking rule only. */
  private replay: { rule: MediaType; videoUntil: number; audioUntil: number } | null = null;

  constructor(
    fullProfile: boolean,
    private readonly file: boolean,
    private readonly logger: Logger,
  ) {
    this.every = fullProfile;
  }

  /** Whether the next converter skips the pictures nothing is predicted from. */
  get skipNonReference(): boolean {
    return !this.every;
  }

  /** For the stream's health. */
  get state(): { decoding: 'reference' | 'full'; fullReason?: string } {
    if (!this.every) return { decoding: 'reference' };
    return this.reason ? { decoding: 'full', fullReason: this.reason } : { decoding: 'full' };
  }

  /**
   * A rule asks for every picture. True when the running converter is to be stopped so that the
   * run continues decoding every picture (false: already decoding them, or asked before).
   */
  ask(rule: MediaType, reason: string): boolean {
    if (this.every) return false;
    this.every = true;
    this.reason = `${rule}: ${reason}`;
    this.pending = { rule, reason };
    this.logger.info({ rule, reason }, 'decoding every picture from now on');
    return true;
  }

  /**
   * After a run: where to continue with every picture, or null when no rule asked during it. A
   * file continues REPLAY_SECONDS before the newest picture every rule has seen.
   */
  continueFrom(): ContinueFrom | null {
    const asked = this.pending;
    this.pending = null;
    if (!asked) return null;
    if (!this.file) return { rule: asked.rule, seekSeconds: null };
    const seekSeconds = Math.max(0, this.videoSeen - REPLAY_SECONDS);
    this.replay = { rule: asked.rule, videoUntil: this.videoSeen, audioUntil: this.audioSeen };
    return { rule: asked.rule, seekSeconds };
  }

  /** The rule a picture at media time t is for alone (a replayed one), or null for every rule. */
  pictureOnlyFor(t: number): MediaType | null {
    if (this.replay && t <= this.replay.videoUntil) return this.replay.rule;
    this.videoSeen = Math.max(this.videoSeen, t);
    return null;
  }

  /** Media at t is replayed (seen by every rule already). */
  replaying(t: number): boolean {
    return this.replay !== null && t <= this.replay.videoUntil;
  }

  /** The same for a sound chunk starting at t. */
  soundOnlyFor(t: number): MediaType | null {
    if (this.replay && t <= this.replay.audioUntil) return this.replay.rule;
    this.audioSeen = Math.max(this.audioSeen, t);
    return null;
  }
}
