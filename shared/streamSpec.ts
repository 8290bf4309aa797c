/** A registered stream: what the owner asked for (validated at the API edge) and what we store. */
import { z } from 'zod';
import { DECODE_PROFILES, type DecodeProfile } from './decodeProfile.js';
import { DEFECT_TYPES, type DefectType } from './events.js';
import { LOUDNESS_STANDARD_IDS, type LoudnessStandard } from './loudnessStandards.js';
import type { PartialThresholds } from './thresholds.js';
import { thresholdsSchema } from './thresholdsSchema.js';

/** A slate's base64 at most (about 10 KB of picture: it must fit the API's 16 KB body limit). */
export const MAX_SLATE_BASE64 = 14_000;

/** The picture type of a slate in base64 (PNG or JPEG, by its first bytes); null for anything else. */
export function slateType(base64: string): 'image/png' | 'image/jpeg' | null {
  const head = Buffer.from(base64.slice(0, 12), 'base64');
  if (head.subarray(0, 4).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47]))) return 'image/png';
  if (head.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff]))) return 'image/jpeg';
  return null;
}

/** The body of POST /streams: unknown fields are refused, not ignored. */
export const streamSpecSchema = z.strictObject({
  url: z.string().min(1).max(2048),
  name: z.string().min(1).max(200).optional(),
  detectors: z.array(z.enum(DEFECT_TYPES)).min(1).max(DEFECT_TYPES.length).optional(),
  thresholds: thresholdsSchema.partial().optional(),
  labels: z
    .record(
      z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'label keys: 1–64 of A-Z a-z 0-9 _ . : -'),
      z.string().max(256),
    )
    .refine((labels) => Object.keys(labels).length <= 20, 'at most 20 labels')
    .optional(),
  /** Tracks the stream must carry; `captions`: closed captions in its video (captions.missing when none). */
  expect: z
    .strictObject({ audio: z.boolean(), video: z.boolean(), captions: z.boolean().optional() })
    .optional(),
  decode: z.enum(DECODE_PROFILES).optional(),
  /**
   * Keep a loudness log (GET /streams/{id}/loudness): per second momentary, short-term and true
   * peak, per period integrated loudness, loudness range, true peak and a verdict against `standard`.
   */
  loudness: z
    .strictObject({
      standard: z.enum(LOUDNESS_STANDARD_IDS),
      /** Periods aligned to the clock, minutes: a divisor of a day, from 15 (default 60). */
      periodMinutes: z
        .number()
        .int()
        .min(15)
        .max(1440)
        .refine((m) => 1440 % m === 0, 'a divisor of 1440 (a day), e.g. 15, 30, 60, 120, 1440')
        .optional(),
    })
    .optional(),
  /** HLS and DASH ladders: decode the highest-bandwidth rendition (default) or, for cost, the lowest. */
  rendition: z.enum(['top', 'lowest']).optional(),
  /** https sources: verify the origin's certificate (default true); false accepts any. */
  verifyTls: z.boolean().optional(),
  /**
   * The stream's slate (the still it shows between programmes or when its contribution fails), a
   * small PNG or JPEG in base64: on screen it is `video.slate`, and black, freeze and silence are
   * not raised while it is. Compared at 32×18, so a thumbnail is enough.
   */
  slate: z
    .string()
    .max(MAX_SLATE_BASE64)
    .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'base64')
    .refine((s) => slateType(s) !== null, 'a PNG or JPEG picture in base64')
    .optional(),
});

export type StreamSpec = z.infer<typeof streamSpecSchema>;

/** One unit of a stream's work as stored: which detectors (its lease is in the units table). */
export interface StoredUnit {
  group: string;
  detectors: DefectType[];
}

/**
 * What a work unit is doing: `opening` (probing or starting the decoder, no media yet), `running`
 * (media flowing), `no-media` (opened, but nothing decoded for the loss rule's duration), `backoff`
 * (waiting to re-open after a failure), `completed` (a file analysed to its end).
 */
export type UnitState = 'opening' | 'running' | 'no-media' | 'backoff' | 'completed';

export interface StreamHealth {
  workerId: string;
  state: UnitState;
  mediaTime: number;
  lagSeconds: number;
  updatedAt: string;
  /** When media last arrived (ISO-8601); absent while none has. */
  lastMediaAt?: string;
  /** Times the monitor re-opened the source (its own converter restarts, any cause). */
  restarts?: number;
  lastError?: string;
  /**
   * Where the decoder reads when not the registered URL: the UDP/RTP tap's loopback relay, the
   * decoded rendition's media playlist of an HLS ladder, or for DASH the playlists the worker
   * writes (`http://documents.streamqc.invalid/master.m3u8`, served by the stream's guard proxy).
   */
  decoderInput?: string;
  /**
   * What the decoder decodes: `reference` pictures only, or `full` (every picture, chosen by the
   * owner or the worker's default, or asked for by a rule: `fullReason` says why).
   */
  decoding?: 'reference' | 'full';
  fullReason?: string;
  /** Closed-caption services the video carried (CC1–CC4, 708-1 …; MPEG-TS sources). */
  captions?: string[];
}

export interface StreamRecord {
  id: string;
  owner: string;
  url: string;
  name: string;
  detectors: DefectType[];
  thresholds: PartialThresholds;
  labels: Record<string, string>;
  expect: { audio: boolean; video: boolean; captions?: boolean };
  /** The owner's choice of decode profile; absent: the worker's default. */
  decode?: DecodeProfile;
  /** A loudness log is kept (periods of `periodMinutes`, default 60). */
  loudness?: { standard: LoudnessStandard; periodMinutes?: number };
  /** HLS and DASH ladders: which rendition is decoded; absent: the top one. */
  rendition?: 'top' | 'lowest';
  /** https sources: false when the owner chose not to verify the origin's certificate. */
  verifyTls?: boolean;
  /** The stream's slate picture (PNG or JPEG, base64), when the owner gave one. */
  slate?: string;
  units: StoredUnit[];
  state: 'active' | 'deleted';
  createdAt: string;
  updatedAt: string;
}
