/**
 * Where an fMP4 media segment (HLS fMP4, DASH) starts on the source's timeline, as FFmpeg's MP4
 * demuxer presents it: each track fragment's `tfdt` (base media decode time) plus its first
 * sample's composition offset (`trun`), in the track's timescale (`mdhd` of the initialization
 * section), shifted by the track's edit list — an empty edit delays the track, the first edit's
 * media_time starts it later (ISO/IEC 14496-12 §8.6.6). The earliest over the fragment's tracks,
 * in seconds; null when the bytes do not say (no moof in them, a track the initialization did not
 * describe). Both inputs come from the origin: every box size is checked against the bytes given.
 */

/** What the initialization section says of one track. */
export interface Fmp4Track {
  timescale: number;
  /** Seconds the edit list moves the track's presentation by (empty edits less the first edit's start). */
  shift: number;
}

/** Tracks of an initialization section, by track_ID. */
export type Fmp4Tracks = Map<number, Fmp4Track>;

/** Boxes read at most at one level: a hostile file must not make this loop for long. */
const MAX_BOXES = 256;

interface Box {
  type: string;
  /** Where its payload starts and where the box ends. */
  body: number;
  end: number;
}

/** The boxes of b[from, to), each within it; stops at the first that does not fit. */
function* boxes(b: Uint8Array, from: number, to: number): Generator<Box> {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let at = from;
  for (let n = 0; n < MAX_BOXES && at + 8 <= to; n++) {
    let size = view.getUint32(at);
    let body = at + 8;
    if (size === 1) {
      if (at + 16 > to) return;
      size = Number(view.getBigUint64(at + 8));
      body = at + 16;
    } else if (size === 0) size = to - at;
    const end = at + size;
    if (size < body - at || end > to) return;
    yield { type: String.fromCharCode(b[at + 4], b[at + 5], b[at + 6], b[at + 7]), body, end };
    at = end;
  }
}

const child = (b: Uint8Array, parent: Box, type: string): Box | undefined => {
  for (const box of boxes(b, parent.body, parent.end)) if (box.type === type) return box;
  return undefined;
};

/** A full box's version and the offset just past its version and flags. */
const versioned = (b: Uint8Array, box: Box) => ({ version: b[box.body], at: box.body + 4 });

/**
 * The 32-bit field after a full box's creation and modification times (32 or 64 bits each, by
 * version): mvhd's and mdhd's timescale, tkhd's track_ID; null when the box is too short.
 */
function afterTimes(b: Uint8Array, view: DataView, box: Box): number | null {
  return uint(view, box, versioned(b, box).at + (b[box.body] === 1 ? 16 : 8), 4);
}

/** Reads an unsigned field of 4 or 8 bytes at `at`, or null when it is not inside `box`. */
function uint(view: DataView, box: Box, at: number, bytes: 4 | 8): number | null {
  if (at + bytes > box.end) return null;
  return bytes === 4 ? view.getUint32(at) : Number(view.getBigUint64(at));
}

/** The tracks an initialization section (ftyp, moov) describes; null when it has no moov in these bytes. */
export function initTracks(b: Uint8Array): Fmp4Tracks | null {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let moov: Box | undefined;
  for (const box of boxes(b, 0, b.length)) if (box.type === 'moov') moov = box;
  if (!moov) return null;
  const mvhd = child(b, moov, 'mvhd');
  const movieScale = mvhd ? afterTimes(b, view, mvhd) : null;
  const tracks: Fmp4Tracks = new Map();
  for (const trak of boxes(b, moov.body, moov.end)) {
    if (trak.type !== 'trak') continue;
    const tkhd = child(b, trak, 'tkhd');
    const mdia = child(b, trak, 'mdia');
    const mdhd = mdia && child(b, mdia, 'mdhd');
    if (!tkhd || !mdhd) continue;
    const id = afterTimes(b, view, tkhd);
    const timescale = afterTimes(b, view, mdhd);
    if (id === null || !timescale) continue;
    tracks.set(id, { timescale, shift: editShift(b, view, trak, timescale, movieScale) });
  }
  return tracks.size ? tracks : null;
}

/** Seconds an edit list moves a track by: its leading empty edits, less the first real edit's media_time. */
function editShift(
  b: Uint8Array,
  view: DataView,
  trak: Box,
  timescale: number,
  movieScale: number | null,
): number {
  const edts = child(b, trak, 'edts');
  const elst = edts && child(b, edts, 'elst');
  if (!elst) return 0;
  const { version, at } = versioned(b, elst);
  const count = uint(view, elst, at, 4) ?? 0;
  const entry = version === 1 ? 20 : 12;
  let shift = 0;
  for (let i = 0, e = at + 4; i < Math.min(count, MAX_BOXES) && e + entry <= elst.end; i++, e += entry) {
    const duration = version === 1 ? Number(view.getBigUint64(e)) : view.getUint32(e);
    const mediaTime = version === 1 ? Number(view.getBigInt64(e + 8)) : view.getInt32(e + 4);
    if (mediaTime === -1) {
      if (movieScale) shift += duration / movieScale;
      continue;
    }
    return shift - mediaTime / timescale;
  }
  return shift;
}

/** The earliest presentation time (seconds) of a media segment's fragment, or null. */
export function fragmentStart(b: Uint8Array, tracks: Fmp4Tracks): number | null {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let earliest: number | null = null;
  for (const moof of boxes(b, 0, b.length)) {
    if (moof.type === 'mdat') break;
    if (moof.type !== 'moof') continue;
    for (const traf of boxes(b, moof.body, moof.end)) {
      if (traf.type !== 'traf') continue;
      const t = trackFragmentStart(b, view, traf, tracks);
      if (t !== null && (earliest === null || t < earliest)) earliest = t;
    }
    break;
  }
  return earliest;
}

function trackFragmentStart(b: Uint8Array, view: DataView, traf: Box, tracks: Fmp4Tracks): number | null {
  const tfhd = child(b, traf, 'tfhd');
  const tfdt = child(b, traf, 'tfdt');
  const id = tfhd ? uint(view, tfhd, tfhd.body + 4, 4) : null;
  const track = id === null ? undefined : tracks.get(id);
  if (!track || !tfdt) return null;
  const decodeTime = uint(view, tfdt, tfdt.body + 4, b[tfdt.body] === 1 ? 8 : 4);
  if (decodeTime === null) return null;
  return (
    (decodeTime + firstCompositionOffset(b, view, child(b, traf, 'trun'))) / track.timescale + track.shift
  );
}

/** The first sample's composition offset in a trun (0 when it carries none). */
function firstCompositionOffset(b: Uint8Array, view: DataView, trun: Box | undefined): number {
  if (!trun) return 0;
  const { version, at } = versioned(b, trun);
  const flags = (b[trun.body + 1] << 16) | (b[trun.body + 2] << 8) | b[trun.body + 3];
  if (!(flags & 0x800) || (uint(view, trun, at, 4) ?? 0) === 0) return 0;
  // sample_count, then data_offset and first_sample_flags when present, then the first sample's
  // duration, size and flags when present, then its composition offset.
  let field = at + 4 + (flags & 0x1 ? 4 : 0) + (flags & 0x4 ? 4 : 0);
  for (const present of [0x100, 0x200, 0x400]) if (flags & present) field += 4;
  if (field + 4 > trun.end) return 0;
  return version === 1 ? view.getInt32(field) : view.getUint32(field);
}
