/**
 * DASH in-band events (an `InbandEventStream` in the MPD): `emsg` boxes at the start of an fMP4
 * media segment (ISO/IEC 23009-1 §5.10.3.3, versions 0 and 1). Those of the SCTE-35 scheme
 * (`urn:scte:scte35:2013:bin`, SCTE 214-3) carry a splice_info_section; the first that says a
 * break starts or ends becomes the segment's cue, as a playlist cue would (AdBreaks.fetched).
 * Only the top-level boxes before the first `moof` are read, from at most the bytes given.
 */
import { sectionCue } from './sectionCue.js';
import type { SegmentCue } from './segments.js';

const SCTE35_SCHEMES = new Set(['urn:scte:scte35:2013:bin', 'urn:scte:scte35:2014:bin']);
/** Boxes read at most: a segment's head holds a few. */
const MAX_BOXES = 64;

export interface EmsgBox {
  scheme: string;
  value: string;
  timescale: number;
  /** Event duration, seconds (0: unknown). */
  duration: number;
  id: number;
  data: Buffer;
}

/** The emsg boxes at the start of a segment (before its first moof). */
export function readEmsg(head: Buffer): EmsgBox[] {
  const boxes: EmsgBox[] = [];
  let at = 0;
  for (let n = 0; n < MAX_BOXES && at + 8 <= head.length; n++) {
    let size = head.readUInt32BE(at);
    const type = head.toString('latin1', at + 4, at + 8);
    let body = at + 8;
    if (size === 1) {
      if (at + 16 > head.length) break;
      size = Number(head.readBigUInt64BE(at + 8));
      body = at + 16;
    }
    if (type === 'moof' || type === 'mdat' || size < body - at) break;
    const end = at + size;
    if (type === 'emsg' && end <= head.length) {
      const box = emsg(head.subarray(body, end));
      if (box) boxes.push(box);
    }
    at = end;
  }
  return boxes;
}

function emsg(b: Buffer): EmsgBox | null {
  if (b.length < 4) return null;
  const version = b[0];
  let at = 4;
  const text = (): string | null => {
    const zero = b.indexOf(0, at);
    if (zero < 0) return null;
    const s = b.toString('utf8', at, zero);
    at = zero + 1;
    return s;
  };
  try {
    if (version === 0) {
      const scheme = text();
      const value = text();
      if (scheme === null || value === null || at + 16 > b.length) return null;
      const timescale = b.readUInt32BE(at);
      const duration = b.readUInt32BE(at + 8);
      const id = b.readUInt32BE(at + 12);
      return {
        scheme,
        value,
        timescale,
        duration: seconds(duration, timescale),
        id,
        data: b.subarray(at + 16),
      };
    }
    if (version === 1) {
      if (at + 20 > b.length) return null;
      const timescale = b.readUInt32BE(at);
      const duration = b.readUInt32BE(at + 12);
      const id = b.readUInt32BE(at + 16);
      at += 20;
      const scheme = text();
      const value = text();
      if (scheme === null || value === null) return null;
      return { scheme, value, timescale, duration: seconds(duration, timescale), id, data: b.subarray(at) };
    }
  } catch {
    return null;
  }
  return null;
}

const seconds = (ticks: number, timescale: number) =>
  timescale > 0 && ticks !== 0xffffffff ? ticks / timescale : 0;

const TAG = 'DASH emsg';

/** The break cue of a segment's SCTE-35 emsg boxes, if any. */
export function inbandCue(head: Buffer): SegmentCue | undefined {
  for (const box of readEmsg(head)) {
    if (!SCTE35_SCHEMES.has(box.scheme)) continue;
    const cue = sectionCue(TAG, () => box.data, { id: String(box.id), duration: box.duration });
    if (cue) return cue;
  }
  return undefined;
}
