/**
 * The SCTE-35 cues a transport stream carried (SCTE 35 §8.1: PMT stream_type 0x86), decoded as
 * they complete, or kept with the reason they could not be. TsAnalyzer feeds it the sections of
 * the cue PIDs; the ad-break tracker takes what arrived since it last looked.
 */
import { parseSpliceInfo, ScteError, type SpliceInfo } from './scte35.js';

/** PMT stream_type of SCTE-35 cue messages. */
export const SCTE35_STREAM_TYPE = 0x86;
/** Cues kept between two take() calls (a flood of them is not kept whole). */
const MAX_CUES = 100;

/** One SCTE-35 cue read from the transport stream: decoded, or refused with the reason. */
export interface CueReport {
  atMs: number;
  cue?: SpliceInfo;
  error?: ScteError['reason'];
}

export class CueLog {
  private cues: CueReport[] = [];

  /** A complete splice_info_section that arrived at `atMs`. */
  section(section: Uint8Array, atMs: number): void {
    try {
      this.keep({ atMs, cue: parseSpliceInfo(section) });
    } catch (e) {
      if (!(e instanceof ScteError)) throw e;
      this.keep({ atMs, error: e.reason });
    }
  }

  /** A section that never completed (its packets lost or cut short). */
  truncated(atMs: number): void {
    this.keep({ atMs, error: 'truncated' });
  }

  /** The cues since the last call, oldest first. */
  take(): CueReport[] {
    const cues = this.cues;
    this.cues = [];
    return cues;
  }

  private keep(cue: CueReport): void {
    if (this.cues.length >= MAX_CUES) this.cues.shift();
    this.cues.push(cue);
  }
}
