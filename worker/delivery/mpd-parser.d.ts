/** The part of mpd-parser (no types of its own) that the DASH reader uses. */
declare module 'mpd-parser' {
  export interface MpdSegment {
    uri: string;
    resolvedUri: string;
    /** Seconds. */
    duration: number;
    /** `startNumber` + position: what `$Number$` would be. */
    number: number;
    /** Seconds on the period's media timeline. */
    presentationTime: number;
    map?: { uri: string; resolvedUri: string };
  }

  export interface MpdPlaylist {
    /** The MPD's, the Period's, the AdaptationSet's and the Representation's attributes, merged. */
    attributes: Record<string, unknown> & {
      id?: string;
      bandwidth?: number;
      width?: number;
      height?: number;
      contentType?: string;
      mimeType?: string;
      type?: string;
      periodStart?: number;
      minimumUpdatePeriod?: number;
      maxSegmentDuration?: string;
      publishTime?: string;
    };
    segments: MpdSegment[];
  }

  export interface RepresentationInfo {
    attributes: MpdPlaylist['attributes'];
  }

  export function inheritAttributes(
    mpd: unknown,
    options: {
      manifestUri: string;
      NOW?: number;
      eventHandler?: (e: { type: string; message: string }) => void;
    },
  ): {
    representationInfo: RepresentationInfo[];
    /** Every Period's EventStream Events, in document order (start, end: seconds on the MPD's timeline). */
    eventStream?: { schemeIdUri: string; id?: string; start: number; end: number; messageData?: string }[];
  };
  export function toPlaylists(representations: RepresentationInfo[]): MpdPlaylist[];
}
