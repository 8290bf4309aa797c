/**
 * Where a segment the decoder fetched starts on the source's timeline, in seconds: a TS segment's
 * earliest PTS; an fMP4 segment's earliest presentation time (fmp4Time.ts), read with the
 * initialization section it names — the decoder fetches that too, through the same proxy, and it
 * is remembered here by URL.
 */
import { earliestPts } from '../transport/psi.js';
import { type Fmp4Tracks, fragmentStart, initTracks } from './fmp4Time.js';

/** Initialization sections remembered at most (a ladder's renditions, a change of init). */
const MAX_INITS = 16;

export class SegmentStarts {
  private readonly inits = new Map<string, Fmp4Tracks>();
  /** The newest one: for a segment not listed yet, whose map is not known. */
  private newest: Fmp4Tracks | null = null;

  /**
   * A download the decoder made: remembered when it is an initialization section (ftyp/moov
   * without a fragment). Returns true when it was one.
   */
  remember(url: string, body: Uint8Array | undefined): boolean {
    if (!body || body.length < 8 || body[0] === 0x47) return false;
    const first = String.fromCharCode(body[4], body[5], body[6], body[7]);
    if (first !== 'ftyp' && first !== 'moov') return false;
    const tracks = initTracks(body);
    if (!tracks) return false;
    this.inits.delete(url);
    this.inits.set(url, tracks);
    if (this.inits.size > MAX_INITS) this.inits.delete(this.inits.keys().next().value as string);
    this.newest = tracks;
    return fragmentStart(body, tracks) === null;
  }

  /** Source seconds where the segment's media starts; null when its bytes do not say. */
  sourceStart(body: Uint8Array | undefined, map?: string): number | null {
    if (!body || body.length === 0) return null;
    if (body[0] === 0x47) return earliestPts(body);
    const tracks = (map === undefined ? undefined : this.inits.get(map)) ?? this.newest;
    return tracks ? fragmentStart(body, tracks) : null;
  }
}
