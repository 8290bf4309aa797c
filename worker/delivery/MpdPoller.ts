/**
 * DASH: the MPD reloaded every MPD@minimumUpdatePeriod (half of it after an unchanged load, as for
 * HLS), each load compared per Representation by the playlist rules, and the HLS playlists the
 * decoder reads (the decoded Representation and the first audio one) rewritten from it.
 */
import type { Thresholds } from '../../shared/thresholds.js';
import {
  type DashManifest,
  type DashRepresentation,
  hlsMasterPlaylist,
  hlsMediaPlaylist,
  looksLikeMpd,
} from './dashManifest.js';
import { FetchError, type Fetched, ManifestRefused } from './guardedGet.js';
import { applyList, MIN_TARGET_DURATION, type RuleSink } from './playlistRules.js';
import type { Rendition } from './Rendition.js';

const MAX_MPD_BYTES = 4 << 20;
/** Seconds a DASH segment may run past MPD@maxSegmentDuration (about two audio or video frames). */
const FRAME_SLACK = 0.1;
/** Consecutive failed loads of the MPD that make every Representation missing. */
const MISSING_AFTER_FAILURES = 2;

export interface MpdPollerOptions {
  /** The MPD's URL, and each rendition's Representation id (pictures, then sound). */
  url: string;
  ids: string[];
  renditions: readonly Rendition[];
  /** The rendition whose pictures are decoded (its playlists are the decoder's). */
  decoded(): Rendition;
  fetch(url: string, maxBytes: number): Promise<Fetched>;
  parse(fetched: Fetched): Promise<DashManifest>;
  stopped(): boolean;
  rule: Thresholds['delivery'];
  sink: RuleSink;
  /** The documents the guard proxy serves the decoder (`master.m3u8`, `video.m3u8`, `audio.m3u8`). */
  documents: Map<string, string>;
}

export class MpdPoller {
  private failures = 0;
  /** The last MPD loaded (its reload period, whether it is live). */
  private mpd: DashManifest | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly o: MpdPollerOptions) {}

  start(): void {
    this.schedule(true);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(changed: boolean, started = Date.now()): void {
    const mpd = this.mpd;
    if (this.o.stopped() || (mpd && !mpd.dynamic)) return;
    // MPD@minimumUpdatePeriod; without one, a segment duration. Unchanged: half, as for HLS.
    const period = Math.max(MIN_TARGET_DURATION, mpd?.updatePeriod || mpd?.targetDuration || 2);
    const wait = (changed ? period : period / 2) * 1000;
    this.timer = setTimeout(() => void this.poll(), Math.max(250, started + wait - Date.now()));
  }

  private async poll(): Promise<void> {
    if (this.o.stopped()) return;
    const started = Date.now();
    let changed = false;
    try {
      const fetched = await this.o.fetch(this.o.url, MAX_MPD_BYTES);
      if (!looksLikeMpd(fetched.body))
        throw new FetchError('not a DASH manifest', fetched.url, fetched.status);
      const mpd = await this.o.parse(fetched);
      if (this.o.stopped()) return;
      this.o.decoded().invalid = null;
      changed = this.apply(mpd);
    } catch (e) {
      if (this.o.stopped()) return;
      if (e instanceof ManifestRefused) {
        // The MPD loads but is refused: one alarm, on the decoded rendition, naming the MPD.
        this.failures = 0;
        for (const r of this.o.renditions) r.missing = null;
        this.o.decoded().invalid = { reason: e.message, limit: e.limit, document: e.url };
        this.schedule(false, started);
        return;
      }
      this.failures++;
      const status = e instanceof FetchError ? e.status : undefined;
      if (this.failures >= MISSING_AFTER_FAILURES)
        for (const r of this.o.renditions)
          r.missing = {
            reason: `the MPD cannot be loaded: ${(e as Error).message}`,
            ...(status ? { status } : {}),
            failures: this.failures,
          };
    }
    this.schedule(changed, started);
  }

  /** One load of the MPD: every rendition's segments compared, the decoder's playlists rewritten. */
  apply(mpd: DashManifest): boolean {
    this.mpd = mpd;
    this.failures = 0;
    let changed = false;
    this.o.renditions.forEach((r, i) => {
      const rep = (r.audio ? mpd.audio : mpd.video).find((v) => v.id === this.o.ids[i]);
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
        applyList(
          r,
          rep.segments,
          {
            targetDuration: mpd.targetDuration,
            // A frame of slack: sound segments end on an audio frame, a few ms past a whole
            // duration (FFmpeg's packager lists 2.005 s sound segments under PT2S).
            longest: mpd.maxSegmentDuration === null ? null : mpd.maxSegmentDuration + FRAME_SLACK,
            ended: !mpd.dynamic,
            emptyFirst: 0,
          },
          this.o.rule,
          this.o.sink,
        ) || changed;
      if (r.stale && mpd.publishTime) r.stale.publishTime = mpd.publishTime;
      if (r === this.o.decoded()) this.writePlaylists(rep, mpd);
    });
    return changed;
  }

  /** The playlists the decoder reads: the decoded Representation and the first audio one. */
  private writePlaylists(video: DashRepresentation, mpd: DashManifest): void {
    const audio = mpd.audio[0];
    this.o.documents.set('master.m3u8', hlsMasterPlaylist(video, audio !== undefined));
    this.o.documents.set('video.m3u8', hlsMediaPlaylist(video, !mpd.dynamic));
    if (audio) this.o.documents.set('audio.m3u8', hlsMediaPlaylist(audio, !mpd.dynamic));
  }
}
