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
  'audio.missing',
  'video.missing',
  // ETSI TR 101 290 on MPEG-TS read by the worker itself (UDP sources).
  'transport.sync',
  'transport.pat',
  'transport.pmt',
  'transport.continuity',
  'transport.pid',
  'transport.pcr',
  'transport.error',
] as const;

export type DefectType = (typeof DEFECT_TYPES)[number];
export type Severity = 'critical' | 'major' | 'minor';
export type AlarmState = 'raised' | 'cleared';

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
  detail: Record<string, number | string | boolean>;
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
  'audio.missing': 'critical',
  'video.missing': 'critical',
  'transport.sync': 'critical',
  'transport.pat': 'critical',
  'transport.pmt': 'critical',
  'transport.continuity': 'major',
  'transport.pid': 'major',
  'transport.pcr': 'minor',
  'transport.error': 'major',
};
