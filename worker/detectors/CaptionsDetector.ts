/**
 * captions.missing: closed captions that a stream carried (CEA-608 field 1 or 2, or CEA-708, in
 * its video: transport/captions.ts) stop for `thresholds.captions.minDuration` (10 s) while its
 * transport keeps coming; or, with `expect.captions`, a stream that carries none. Padding counts
 * as carried (an encoder sends it between captions): what stops is the inserter, not the dialogue.
 * Read from MPEG-TS sources the worker reads whole (UDP, RTP, TS files: onTransport, every 0.1 s
 * of the stream) and from the TS segments of an HLS stream's decoded pictures (onSegment, each
 * segment over its own duration: between downloads nothing is judged, so a wait for the next
 * segment never looks like captions gone). Not from fMP4 segments (HLS fMP4, DASH).
 */
import type { TransportErrors } from '../transport/TsAnalyzer.js';
import type { Detector, DetectorContext } from './types.js';

const NAMES: Record<string, string> = {
  '608-field1': 'CEA-608 field 1 (CC1/CC2)',
  '608-field2': 'CEA-608 field 2 (CC3/CC4)',
  '708': 'CEA-708',
};

export class CaptionsDetector implements Detector {
  readonly type = 'captions.missing' as const;
  /** Carriages the stream has carried. */
  private readonly carried = new Set<string>();
  private readonly services = new Set<string>();

  constructor(private readonly context: DetectorContext) {}

  /** Caption services seen carrying something (CC1–CC4, 708-1 …), for the stream's health. */
  get serviceList(): string[] {
    return [...this.services];
  }

  onTransport(errors: TransportErrors, t: number, duration: number): void {
    if (!this.context.segmented) this.judge(errors, t, duration);
  }

  /** A segment of a segmented source (HLS TS): what it carried, from media time t for its duration. */
  onSegment(found: TransportErrors, t: number, duration: number): void {
    this.judge(found, t, duration);
  }

  private judge(errors: TransportErrors, t: number, duration: number): void {
    for (const c of errors.captions) this.carried.add(c);
    for (const s of errors.captionServices ?? []) this.services.add(s);
    const missing = [...this.carried].filter((c) => !errors.captions.includes(c as never));
    const none = this.context.expect.captions === true && this.carried.size === 0;
    const active = missing.length > 0 || none;
    this.context.emit({
      type: this.type,
      t,
      duration,
      active,
      detail: active
        ? {
            missing: none
              ? 'captions (expected, none carried)'
              : missing.map((c) => NAMES[c] ?? c).join(', '),
            ...(this.services.size ? { services: [...this.services].join(',') } : {}),
          }
        : {},
    });
  }
}
