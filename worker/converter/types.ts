/** What the converter hands the detectors: picture and sound in memory, each with its media time. */

/**
 * One decoded picture, luma only, row-major without padding: every `rowStep`-th row of the
 * picture after an integer horizontal downscale by `scale`.
 */
export interface VideoFrame {
  /** Media time in seconds from the first decoded sample of the input. */
  t: number;
  /** Wall-clock time (ms) when the picture reached Node. */
  wallMs: number;
  /** Display duration, seconds (the gap to the next frame as far as known). */
  duration: number;
  /**
   * The stream's nominal picture interval (1 / frame rate), seconds. A larger gap to the previous
   * frame means pictures in between were not decoded (the `reference` profile) or were lost.
   */
  interval: number;
  width: number;
  height: number;
  /** The converter reuses it a picture or two later (Converter.lumaBuffer): copy what must outlive that. */
  luma: Uint8Array;
  /** True when luma spans 0–255; false for studio range (16 black, 235 white). */
  fullRange: boolean;
  /** Picture type from the decoder: I, P, B or ? */
  pictType: string;
  /** Integer factor by which the source was downscaled horizontally (1 = native resolution). */
  scale: number;
  /** Picture rows (after downscale) between two rows of `luma`. */
  rowStep: number;
}

/** One decoded block of audio, interleaved float samples at the source rate. */
export interface AudioChunk {
  t: number;
  /** Wall-clock time (ms) when the samples reached Node. */
  wallMs: number;
  sampleRate: number;
  channels: number;
  /** Interleaved samples, nominal range −1..1; reused once two later chunks were handed on. */
  samples: Float32Array;
}

export interface VideoTrackInfo {
  codec: string;
  width: number;
  height: number;
  frameRate: number;
}

export interface AudioTrackInfo {
  codec: string;
  sampleRate: number;
  channels: number;
}

/** What the input turned out to hold. */
export interface TrackInfo {
  video: VideoTrackInfo | null;
  audio: AudioTrackInfo | null;
  /** Seconds, when the container knows it (files); null for live inputs. */
  duration: number | null;
  /** The source timestamp of the input's first sample (seconds), when the container says. */
  startTime: number | null;
  formatName: string;
}

/** The code value at a fraction (0 black … 1 white) of a frame's nominal luma range. */
export function lumaLevel(frame: Pick<VideoFrame, 'fullRange'>, fraction: number): number {
  return frame.fullRange ? fraction * 255 : 16 + fraction * 219;
}
