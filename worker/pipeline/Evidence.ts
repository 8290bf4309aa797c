/**
 * Pictures and numbers behind a stream's alarms. The converter hands a small JPEG of the decoded
 * picture every 2 s of media (no second decode); the newest is kept as the stream's thumbnail
 * in the media store every `thumbnailSeconds`. When an alarm is raised, its evidence is stored
 * under an id derived from the alarm's dedup key and named in the event (`detail.evidence`, the
 * API path that serves it): the picture on screen at the raise for picture types, the last ten
 * seconds of sound levels for sound types, the event's own counts for the rest.
 */
import type { DefectEvent } from '../../shared/events.js';
import type { Logger } from '../../shared/logger.js';
import { evidenceKey, type MediaStore, thumbnailKey } from '../../shared/media/MediaStore.js';
import { redactDeep } from '../../shared/redact.js';
import { sha256Hex } from '../../shared/sha256.js';
import type { AudioChunk } from '../converter/types.js';

/** JPEGs asked of the converter: often enough that the one at a raise shows the fault. */
export const PICTURE_SECONDS = 2;
/** Recent JPEGs kept for evidence. */
const PICTURES_KEPT = 4;
/** Pictures a raise waits for one that shows its fault before taking whatever comes. */
const PICTURE_PATIENCE = 3;
/** Raises waiting for a picture at most (a stream that shows none holds no more). */
const MAX_WAITING = 32;
/** Sound levels kept for evidence: 100 chunks of 0.1 s. */
const LEVELS_KEPT = 100;
/** Samples read for a level: one in this many (an odd step reads both channels of stereo). */
const LEVEL_STEP = 5;

/** Types whose evidence is the picture. */
const PICTURE_TYPES = /^video\.(black|freeze|corruption|slate)$/;
/** Types whose evidence is the sound's levels. */
const SOUND_TYPES = /^(audio\.|av\.desync)/;

export interface EvidenceOptions {
  streamId: string;
  store: MediaStore;
  /** Seconds between stored thumbnails (wall clock). */
  thumbnailSeconds: number;
  logger: Logger;
}

/** One chunk's level: RMS and peak over every channel, dBFS (−120 for digital silence). */
interface Level {
  t: number;
  rmsDb: number;
  peakDb: number;
}

const db = (x: number) => (x > 1e-6 ? Math.round(200 * Math.log10(x)) / 10 : -120);

/** The evidence id of an alarm: the same for its raise, any re-send and its clear. */
export function evidenceId(dedupKey: string): string {
  return `ev_${sha256Hex(dedupKey).slice(0, 20)}`;
}

export class Evidence {
  private readonly pictures: { t: number; jpeg: Buffer }[] = [];
  private readonly levels: Level[] = [];
  private lastThumbnailMs = 0;
  private writingThumbnail = false;
  /** Picture evidence waiting for a picture that shows the fault. */
  private readonly waiting = new Set<{ key: string; start: number; pictures: number }>();
  /** Evidence this run stored, by id: the path its clear names too. */
  private readonly stored = new Map<string, string>();

  constructor(private readonly options: EvidenceOptions) {}

  /** A JPEG of the picture at media time t. */
  picture(jpeg: Buffer, t: number): void {
    this.pictures.push({ t, jpeg });
    if (this.pictures.length > PICTURES_KEPT) this.pictures.shift();
    // Alarms raised before a picture of the fault had come: this one, once it shows the fault's
    // time, or after a few pictures whatever it shows (the media clock may have stepped).
    for (const wait of [...this.waiting]) {
      if (t >= wait.start || ++wait.pictures >= PICTURE_PATIENCE) {
        this.waiting.delete(wait);
        this.store(wait.key, jpeg, 'image/jpeg');
      }
    }
    const now = Date.now();
    if (this.writingThumbnail || now - this.lastThumbnailMs < this.options.thumbnailSeconds * 1000) return;
    this.lastThumbnailMs = now;
    this.writingThumbnail = true;
    this.options.store
      .put(thumbnailKey(this.options.streamId), jpeg, 'image/jpeg')
      .catch((e) => this.options.logger.warn({ err: (e as Error).message }, 'could not store the thumbnail'))
      .finally(() => {
        this.writingThumbnail = false;
      });
  }

  /**
   * A chunk of sound: its level is kept. Every LEVEL_STEP-th sample is enough for a level strip
   * (a tenth of a second holds thousands), and costs a quarter of reading them all.
   */
  sound(chunk: AudioChunk): void {
    const s = chunk.samples;
    let sum = 0;
    let peak = 0;
    let count = 0;
    for (let i = 0; i < s.length; i += LEVEL_STEP) {
      const v = s[i];
      sum += v * v;
      const a = v < 0 ? -v : v;
      if (a > peak) peak = a;
      count++;
    }
    this.levels.push({
      t: Math.round(chunk.t * 100) / 100,
      rmsDb: db(Math.sqrt(sum / Math.max(1, count))),
      peakDb: db(peak),
    });
    if (this.levels.length > LEVELS_KEPT) this.levels.shift();
  }

  /**
   * A raised alarm leaves with a reference to its evidence, stored now or at the next picture
   * (never awaited: the alarm is not held back for it; a failed write is logged and the reference
   * then answers 404).
   */
  attach(event: DefectEvent): DefectEvent {
    if (event.detail.evidence !== undefined) return event;
    const id = evidenceId(event.dedupKey);
    if (event.state === 'cleared') {
      // The clear names the raise's evidence, when this run stored it.
      const stored = this.stored.get(id);
      return stored ? { ...event, detail: { ...event.detail, evidence: stored } } : event;
    }
    const detail: DefectEvent['detail'] = { ...event.detail };
    if (PICTURE_TYPES.test(event.type)) {
      // The picture on screen: the newest, unless it predates the fault or none has come yet
      // (pictures come every 2 s and a raise can come sooner): then the first that
      // shows it.
      const key = evidenceKey(event.streamId, id, 'jpg');
      const newest = this.pictures.at(-1);
      if (newest && newest.t >= event.start) this.store(key, newest.jpeg, 'image/jpeg');
      else if (this.waiting.size < MAX_WAITING) this.waiting.add({ key, start: event.start, pictures: 0 });
      detail.evidence = `/streams/${event.streamId}/evidence/${id}.jpg`;
      this.remember(id, detail.evidence);
      return { ...event, detail };
    }
    // The rest: the sound's last ten seconds of levels, or the event's own counts.
    const sound = SOUND_TYPES.test(event.type) ? { levels: [...this.levels] } : {};
    const { type, streamId, start } = event;
    // Credentials a rendition URI or an error may quote never reach the store (as in every answer).
    const body = Buffer.from(
      JSON.stringify(redactDeep({ type, streamId, start, detail: event.detail, ...sound })),
    );
    detail.evidence = `/streams/${streamId}/evidence/${id}.json`;
    this.remember(id, detail.evidence);
    this.store(evidenceKey(streamId, id, 'json'), body, 'application/json');
    return { ...event, detail };
  }

  private remember(id: string, path: string): void {
    this.stored.set(id, path);
    if (this.stored.size > 256) this.stored.delete(this.stored.keys().next().value as string);
  }

  private store(key: string, body: Buffer, contentType: string): void {
    this.options.store
      .put(key, body, contentType)
      .catch((e) => this.options.logger.warn({ err: (e as Error).message, key }, 'could not store evidence'));
  }
}
