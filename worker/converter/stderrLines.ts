/** Parses the ffmpeg stderr lines the converter relies on: frame timestamps and decode errors. */

export interface VideoHeader {
  kind: 'video';
  pts: number | null;
  width: number;
  height: number;
  pictType: string;
  /** The analysis scale the picture was made at (its sample aspect ratio, ffmpegArgs.analysisChain), null if not said. */
  scale: number | null;
}

export interface ColorRangeLine {
  kind: 'range';
  fullRange: boolean;
}

export interface AudioHeader {
  kind: 'audio';
  pts: number | null;
  channels: number;
  sampleRate: number;
  samples: number;
}

/** The thumbnail branch's note of the picture its next JPEG shows (ffmpegArgs THUMBNAIL_INFO). */
export interface ThumbnailHeader {
  kind: 'thumbnail';
  pts: number | null;
}

export interface DecodeErrorLine {
  kind: 'decodeError';
  decoder: string;
  message: string;
}

/** fftools' note that the picture it just took from a decoder carries concealed damage. */
export interface CorruptFrameLine {
  kind: 'corruptFrame';
}

export interface OtherLine {
  kind: 'other';
  level: string;
  text: string;
}

export type StderrLine =
  | VideoHeader
  | ColorRangeLine
  | AudioHeader
  | ThumbnailHeader
  | DecodeErrorLine
  | CorruptFrameLine
  | OtherLine;

const VIDEO_RE =
  /^\[Parsed_showinfo_\d+ @ [^\]]+\] \[info\] n:\s*\d+ pts:\s*\S+ pts_time:(\S+)\s.*?(?: sar:(\d+)\/(\d+))? s:(\d+)x(\d+) .*?type:(\S)/;
const RANGE_RE = /^\[Parsed_showinfo_\d+ @ [^\]]+\] \[info\] color_range:(\w+)/;
const AUDIO_RE =
  /^\[Parsed_ashowinfo_\d+ @ [^\]]+\] \[info\] n:\d+ pts:\S+ pts_time:(\S+) .*?channels:(\d+) .*?rate:(\d+) nb_samples:(\d+)/;
const THUMB_RE = /^\[showinfo@thumb @ [^\]]+\] \[info\] n:\s*\d+ pts:\s*\S+ pts_time:(\S+)\s/;
const CONTEXT_RE = /^\[([\w-]+) @ 0x[0-9a-f]+\] \[(\w+)\] (.*)$/;
const PLAIN_RE = /^\[(\w+)\] (.*)$/;
const CORRUPT_RE = /: corrupt decoded frame in stream \d+$/;

/** Decoder log contexts whose errors mean the picture is damaged. */
export const VIDEO_DECODERS = new Set([
  'h264',
  'hevc',
  'mpeg2video',
  'mpeg1video',
  'mpeg4',
  'vp8',
  'vp9',
  'av1',
  'libdav1d',
  'mjpeg',
  'vc1',
  'prores',
]);

function time(value: string): number | null {
  const t = Number(value);
  return Number.isFinite(t) ? t : null;
}

/** The analysis scales (ffmpegArgs.analysisScale). */
const SCALES = [1, 2, 4];

/** The analysis scale a picture's sample aspect ratio says: S:1, or within a rounding of an odd width's division. */
function scaleOf(sar: number): number | null {
  for (const scale of SCALES) if (Math.abs(sar / scale - 1) < 0.02) return scale;
  return null;
}

/** Classifies one stderr line (without its newline). */
export function parseStderrLine(line: string): StderrLine {
  // Two lines a picture and one a sound chunk: each tried only against the patterns its first
  // characters allow (the others would fail, but only after reading into it).
  let m: RegExpExecArray | null = null;
  if (line.startsWith('[Parsed_showinfo_')) m = VIDEO_RE.exec(line);
  if (m) {
    const sar = m[2] && Number(m[3]) > 0 ? Number(m[2]) / Number(m[3]) : 0;
    return {
      kind: 'video',
      pts: time(m[1]),
      width: Number(m[4]),
      height: Number(m[5]),
      pictType: m[6],
      scale: scaleOf(sar),
    };
  }
  if (line.startsWith('[Parsed_ashowinfo_')) m = AUDIO_RE.exec(line);
  if (m) {
    return {
      kind: 'audio',
      pts: time(m[1]),
      channels: Number(m[2]),
      sampleRate: Number(m[3]),
      samples: Number(m[4]),
    };
  }
  if (line.startsWith('[showinfo@thumb')) {
    m = THUMB_RE.exec(line);
    return m ? { kind: 'thumbnail', pts: time(m[1]) } : { kind: 'other', level: 'info', text: '' };
  }
  m = RANGE_RE.exec(line);
  if (m) return { kind: 'range', fullRange: m[1] === 'pc' || m[1] === 'jpeg' };
  m = CONTEXT_RE.exec(line);
  if (m) {
    if (m[2] === 'error' && VIDEO_DECODERS.has(m[1]))
      return { kind: 'decodeError', decoder: m[1], message: m[3] };
    return { kind: 'other', level: m[2], text: `${m[1]}: ${m[3]}` };
  }
  m = PLAIN_RE.exec(line);
  if (m && CORRUPT_RE.test(m[2])) return { kind: 'corruptFrame' };
  if (m) return { kind: 'other', level: m[1], text: m[2] };
  return { kind: 'other', level: 'info', text: line };
}
