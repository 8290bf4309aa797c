/** One segment of a rendition, HLS or DASH (`msn`: media sequence number, or DASH `$Number$`). */
export interface SegmentInfo {
  msn: number;
  uri: string;
  duration: number;
  discontinuity: number;
  /** Initialization section (EXT-X-MAP, DASH Initialization). */
  map?: string;
  /** Presentation time, seconds (DASH; HLS playlists do not say). */
  start?: number;
  /** An ad-break cue on this segment: a break starts here (`out`) or the programme returns (`in`). */
  cue?: SegmentCue;
}

/**
 * A break cue as an HLS playlist signals it (EXT-X-CUE-OUT/IN, EXT-X-DATERANGE SCTE35-OUT/IN/CMD,
 * EXT-X-SCTE35, EXT-OATCLS-SCTE35). `reason`: its SCTE-35 bytes cannot be read (a DATERANGE
 * SCTE35-OUT/IN still says its direction; any other such cue is `invalid`).
 */
export interface SegmentCue {
  kind: 'out' | 'in' | 'invalid';
  reason?: string;
  /** The break ends when its planned duration runs out (no return cue comes: a DASH event's duration). */
  autoReturn?: boolean;
  /** Planned duration of the break, seconds, when the cue says. */
  duration?: number;
  /** The tag that said it, and its id (DATERANGE ID) when it has one. */
  tag: string;
  id?: string;
}

/**
 * Segments of one rendition a monitor keeps from a document: the newest, nearest the live edge.
 * A playlist listing more (an EVENT playlist hours long, a hostile one) is judged on its tail.
 */
export const MAX_SEGMENTS_KEPT = 10_000;
