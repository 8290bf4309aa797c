/** Defect event types and the event shape of CONTRACT.md §1, shared by worker and dispatcher. */
export const DEFECT_TYPES = [
  'video.black',
  'video.freeze',
  'video.corruption',
  'audio.silence',
  'audio.clipping',
  'audio.loudness',
  'av.desync',
  'stream.loss',
  // The stream is registered but not being monitored (a unit stuck opening, or quarantined).
  'stream.unmonitored',
  'audio.missing',
  'video.missing',
  // Channels of a multichannel stream: one silent while others sound; a stereo pair out of phase.
  'audio.channel_silence',
  'audio.phase',
  // True peak over the delivery limit (BS.1770-4): runs when a stream lists it (OPT_IN_TYPES).
  'audio.true_peak',
  // Closed captions (CEA-608/708 in the video of MPEG-TS sources) that stopped, or never came when expected.
  'captions.missing',
  // ETSI TR 101 290 on MPEG-TS read by the worker itself (UDP sources).
  'transport.sync',
  'transport.pat',
  'transport.pmt',
  'transport.continuity',
  'transport.pid',
  'transport.pcr',
  'transport.error',
  // HLS delivery: playlists, segments and renditions, read by the worker itself (worker/delivery).
  'delivery.playlist_stale',
  'delivery.sequence',
  'delivery.segment_error',
  'delivery.segment_duration',
  'delivery.variant_missing',
  'delivery.manifest_invalid',
  // A signalled ad break (SCTE-35 cues in HLS playlists): not a defect; black, silence and
  // freeze inside it are not raised (worker/alarms/Inhibitor.ts).
  'ad.break',
  // The stream's configured slate picture is on screen: not a defect (like a break).
  'video.slate',
  // SCTE-35 checks: what a source's cues do wrong (worker/delivery/CueChecks.ts).
  'scte35.preroll',
  'scte35.overrun',
  'scte35.orphan_return',
  'scte35.malformed',
  'scte35.cues_stopped',
] as const;

export type DefectType = (typeof DEFECT_TYPES)[number];

/**
 * Rules that run only when a stream (or `analyze --detectors`) lists them: compliance limits
 * that are not a fault of every stream (a loud master over −1 dBTP plays fine).
 */
export const OPT_IN_TYPES: readonly DefectType[] = ['audio.true_peak'];

/** The rules a stream runs when it lists none: every type but the opt-in ones. */
export const DEFAULT_DETECTORS: readonly DefectType[] = DEFECT_TYPES.filter((t) => !OPT_IN_TYPES.includes(t));
/** Types judged by the delivery monitor (playlists, segments), not by a media detector. */
export type DeliveryType = Extract<DefectType, `delivery.${string}`>;

export function isDeliveryType(type: DefectType): type is DeliveryType {
  return type.startsWith('delivery.');
}

/** Types the worker raises about its own monitoring of a stream, not about the media. */
export type MonitorType = 'stream.unmonitored';

/** Signals the source carries (ad breaks, its slate on screen), reported as events but not defects. */
export type SignalType = 'ad.break' | 'video.slate';

/** Checks of the SCTE-35 cues a source signals (judged with its breaks, not by a media detector). */
export type CueCheckType = Extract<DefectType, `scte35.${string}`>;

export function isCueCheckType(type: DefectType): type is CueCheckType {
  return type.startsWith('scte35.');
}

/** Types a media detector judges (worker/detectors, the slate among them): not delivery, monitoring, breaks or cues. */
export type MediaType = Exclude<DefectType, DeliveryType | MonitorType | 'ad.break' | CueCheckType>;

export function isMediaType(type: DefectType): type is MediaType {
  return (
    !isDeliveryType(type) && !isCueCheckType(type) && type !== 'stream.unmonitored' && type !== 'ad.break'
  );
}
/** `info`: a signal, not a defect (ad.break). */
export type Severity = 'critical' | 'major' | 'minor' | 'info';
export type AlarmState = 'raised' | 'cleared';

/** One rendition of an ABR ladder, as events name it (`detail.rendition`). */
export interface RenditionRef {
  uri: string;
  /** As listed (0 where nothing says: an HLS audio rendition, a plain media playlist). */
  bandwidth: number;
  /** `WIDTHxHEIGHT` when the multivariant playlist says. */
  resolution?: string;
  /** A rendition of sound only (HLS `EXT-X-MEDIA` audio, a DASH audio Representation). */
  type?: 'audio';
  /** Its language and name, when the playlist or MPD says. */
  language?: string;
  name?: string;
}

/** Where a content defect of a ladder was seen: every rendition (source, encoder) or some. */
export type DefectScope = 'all' | 'rendition';

export type DetailValue = number | string | boolean | RenditionRef;

/** One defect event: on SNS the message body, in NDJSON one line. */
export interface DefectEvent {
  type: DefectType;
  state: AlarmState;
  streamId: string;
  start: number;
  end: number | null;
  wallStart?: string;
  wallEnd?: string;
  severity: Severity;
  dedupKey: string;
  detail: Record<string, DetailValue>;
  /** The registering owner (live streams); SNS carries it as a message attribute for filtering. */
  owner?: string;
}

/** Default severity of each type: what an on-call person should feel when it fires. */
export const DEFAULT_SEVERITY: Record<DefectType, Severity> = {
  'video.black': 'critical',
  'video.freeze': 'critical',
  'video.corruption': 'major',
  'audio.silence': 'critical',
  'audio.clipping': 'minor',
  'audio.loudness': 'minor',
  'av.desync': 'major',
  'stream.loss': 'critical',
  'stream.unmonitored': 'critical',
  'audio.missing': 'critical',
  'audio.channel_silence': 'major',
  'audio.phase': 'major',
  'audio.true_peak': 'minor',
  'captions.missing': 'major',
  'video.missing': 'critical',
  'transport.sync': 'critical',
  'transport.pat': 'critical',
  'transport.pmt': 'critical',
  'transport.continuity': 'major',
  'transport.pid': 'major',
  'transport.pcr': 'minor',
  'transport.error': 'major',
  'delivery.playlist_stale': 'critical',
  'delivery.sequence': 'major',
  'delivery.segment_error': 'major',
  'delivery.segment_duration': 'minor',
  'delivery.variant_missing': 'major',
  'delivery.manifest_invalid': 'major',
  'ad.break': 'info',
  'video.slate': 'info',
  'scte35.preroll': 'minor',
  'scte35.overrun': 'major',
  'scte35.orphan_return': 'minor',
  'scte35.malformed': 'major',
  'scte35.cues_stopped': 'major',
};

/**
 * The registry slot of an alarm: one open alarm per slot. A stream's own alarms use their type;
 * an alarm about one rendition of a ladder (a stale playlist, a frozen rendition) has a slot per
 * rendition, so two renditions can be in alarm at once. Derived from the event alone, so every
 * party (worker, API's delete) finds the same slot.
 */
export function alarmSlot(event: Pick<DefectEvent, 'type' | 'detail'>): string {
  const rendition = event.detail.rendition;
  if (typeof rendition !== 'object' || event.detail.scope === 'all') return event.type;
  return `${event.type}#${rendition.uri}`;
}
