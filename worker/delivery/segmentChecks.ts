/**
 * Judging one segment download (an error, slower than real time, still running past that) and
 * TR 101 290 on a TS segment's bytes, for the rendition it belongs to.
 */
import type { DeliveryType } from '../../shared/events.js';
import type { Thresholds } from '../../shared/thresholds.js';
import type { Detail } from '../detectors/types.js';
import type { CueReport } from '../transport/cueLog.js';
import { addErrors, PACKET, type TransportErrors, TsAnalyzer } from '../transport/TsAnalyzer.js';
import type { Rendition } from './Rendition.js';
import type { SegmentInfo } from './segments.js';

export type FaultSink = (r: Rendition, type: DeliveryType, detail: Detail) => void;

/** A finished download: an error or a status that is one, or slower than the segment plays. */
export function judgeDownload(
  r: Rendition,
  s: SegmentInfo,
  download: { status: number; ms: number; error?: string },
  rule: Thresholds['delivery'],
  fault: FaultSink,
): void {
  const { status, ms, error } = download;
  if (error || status >= 400 || status === 0)
    fault(r, 'delivery.segment_error', { msn: s.msn, uri: s.uri, reason: error ?? `HTTP ${status}`, status });
  else if (ms > s.duration * 1000 * rule.slowFactor)
    fault(r, 'delivery.segment_error', {
      msn: s.msn,
      uri: s.uri,
      reason: 'slower than real time',
      downloadMs: ms,
      durationMs: Math.round(s.duration * 1000),
    });
}

/** A download still running: past the slow line, it is a fault now (not when, or if, it ends). */
export function judgeInProgress(
  r: Rendition,
  s: SegmentInfo,
  ms: number,
  rule: Thresholds['delivery'],
  fault: FaultSink,
): void {
  if (ms > s.duration * 1000 * rule.slowFactor)
    fault(r, 'delivery.segment_error', {
      msn: s.msn,
      uri: s.uri,
      reason: `download not complete after ${Math.round(ms / 1000)} s (still running)`,
      downloadMs: ms,
      durationMs: Math.round(s.duration * 1000),
    });
}

/**
 * A TS segment's bytes through the rendition's analyser (fMP4 has no transport to read): TR 101 290
 * for its transport checks (summed in `r.tsErrors` until the next tick), the SCTE-35 cues of its
 * cue PID (segmentCues) and what this segment alone carried — returned, its captions among them;
 * null for a segment that is not TS. Consecutive segments of a rendition are one transport stream
 * (continuity counters, tables and PIDs carry over); a segment that does not follow the last one
 * read starts a new run. Time is the stream's PCR clock.
 */
export function readSegment(
  r: Rendition,
  s: SegmentInfo,
  bytes: Buffer,
  thresholds: Thresholds,
): TransportErrors | null {
  if (bytes.length < PACKET || bytes[0] !== 0x47) return null;
  if (!r.ts || s.msn !== r.tsNext)
    r.ts = new TsAnalyzer({
      clock: 'pcr',
      pidTimeoutSeconds: thresholds.transport.pidTimeout,
      pcrRepetition: !r.audio,
      pcrAccuracy: false,
    });
  // PAT and PMT once per segment (at its start), not every 0.5 s as on a broadcast feed: the
  // wait is this segment's length, which can exceed the target duration read at the start.
  r.ts.setTableInterval(Math.max(r.targetDuration, s.duration) + 0.5);
  r.ts.push(bytes);
  r.tsNext = s.msn + 1;
  const found = r.ts.take();
  if (r.transport.length === 0) return found;
  if (r.tsErrors) addErrors(r.tsErrors, found);
  else
    r.tsErrors = { ...found, continuityByPid: { ...found.continuityByPid }, captions: [...found.captions] };
  return found;
}

/**
 * The SCTE-35 cues of the cue PID (PMT stream type 0x86) in the segment readSegment read last,
 * dated when it arrived.
 */
export function segmentCues(r: Rendition): CueReport[] {
  const now = Date.now();
  return (r.ts?.takeCues() ?? []).map((c) => ({ ...c, atMs: now }));
}
