/**
 * The multivariant playlist after the first load. A player starting the stream reads it first, so
 * one the origin stops serving (an HTTP error, a timeout, a body that is not a multivariant
 * playlist) keeps every new viewer out while the renditions' own playlists, and so the viewers
 * already watching and the decoder, play on. Re-loaded every `reloadSeconds` (after a failure,
 * again a fifth of that later); two failed loads in a row are `delivery.segment_error` naming it
 * (`detail.document: "multivariant"`, its URL as `detail.rendition`), cleared at the next good load.
 */
import type { DefectEvent } from '../../shared/events.js';
import { AlarmTracker, type OpenAlarm } from '../alarms/AlarmTracker.js';
import type { Detail } from '../detectors/types.js';
import { FetchError, type Fetched } from './guardedGet.js';
import { MAX_PLAYLIST_BYTES } from './openLadder.js';
import type { ParsedDocument } from './parseDocument.js';

/** Seconds between two loads of the multivariant playlist while it loads. */
export const MASTER_RELOAD_SECONDS = 30;
/** Failed loads in a row that make it a fault (one failed request is not yet an outage of it). */
const FAULT_AFTER_FAILURES = 2;

export interface MasterWatchOptions {
  url: string;
  reloadSeconds: number;
  fetch: (url: string, maxBytes: number) => Promise<Fetched>;
  parse: (fetched: Fetched) => Promise<ParsedDocument>;
  stopped: () => boolean;
  tracker: Omit<ConstructorParameters<typeof AlarmTracker>[0], 'onEvent' | 'subject'>;
  onEvent: (event: DefectEvent) => void;
}

export class MasterWatch {
  private readonly tracker: AlarmTracker;
  private failures = 0;
  private fault: Detail | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastT: number | null = null;

  constructor(private readonly options: MasterWatchOptions) {
    const rendition = { uri: options.url, bandwidth: 0 };
    this.tracker = new AlarmTracker({
      ...options.tracker,
      subject: options.url,
      onEvent: (event) =>
        options.onEvent({ ...event, detail: { ...event.detail, rendition, document: 'multivariant' } }),
    });
  }

  get url(): string {
    return this.options.url;
  }

  start(): void {
    // An alarm restored from before a restart is looked at now, not a reload period later.
    this.schedule(this.failures > 0 ? 0 : this.options.reloadSeconds);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** An alarm of this playlist open before a restart: it was failing, one more failure confirms it. */
  restore(alarm: OpenAlarm): void {
    this.tracker.restore([alarm]);
    this.failures = FAULT_AFTER_FAILURES - 1;
  }

  /** What the loads since the last tick found, as one observation up to media time `t`. */
  tick(t: number): void {
    const since = this.lastT ?? t;
    this.tracker.observe({
      type: 'delivery.segment_error',
      t: since,
      duration: t - since,
      active: this.fault !== null,
      detail: this.fault ?? undefined,
    });
    this.lastT = t;
  }

  private schedule(seconds: number): void {
    if (this.options.stopped()) return;
    this.timer = setTimeout(() => void this.load(), seconds * 1000);
  }

  private async load(): Promise<void> {
    const { url } = this.options;
    try {
      const fetched = await this.options.fetch(url, MAX_PLAYLIST_BYTES);
      if (fetched.body.subarray(0, 7).toString('latin1') !== '#EXTM3U')
        throw new FetchError('not a playlist', fetched.url, fetched.status);
      const playlist = await this.options.parse(fetched);
      if (playlist.kind !== 'master' || playlist.variants.length === 0)
        throw new FetchError(
          'no longer a multivariant playlist listing a variant',
          fetched.url,
          fetched.status,
        );
      this.failures = 0;
      this.fault = null;
    } catch (e) {
      if (this.options.stopped()) return;
      this.failures++;
      const status = e instanceof FetchError ? e.status : undefined;
      if (this.failures >= FAULT_AFTER_FAILURES)
        this.fault = {
          uri: url,
          reason: (e as Error).message,
          ...(status ? { status } : {}),
          failures: this.failures,
        };
    }
    this.schedule(this.failures > 0 ? this.options.reloadSeconds / 5 : this.options.reloadSeconds);
  }
}
