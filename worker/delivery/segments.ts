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
}

/**
 * Segments of one rendition a monitor keeps from a document: the newest, nearest the live edge.
 * A playlist listing more (an EVENT playlist hours long, a hostile one) is judged on its tail.
 */
export const MAX_SEGMENTS_KEPT = 10_000;
