/**
 * What an input holds, read from the description ffmpeg prints of it when it opens it (the
 * `Input #0` block on stderr: the same libavformat values ffprobe reports). A recorded file's
 * converter is started before its tracks are known and this is read from its own stderr, so the
 * file is not opened a second time by ffprobe (FFmpeg's start-up alone is ~0.05 CPU s).
 *
 * Only descriptions read with certainty give an answer: anything this does not recognise (a codec
 * FFmpeg cannot decode, a channel layout not in the table, no stream lines at all) gives null, and
 * the caller asks ffprobe as before.
 */
import type { TrackInfo } from './types.js';

/** Channel counts of the layout names FFmpeg prints (libavutil/channel_layout.c). */
const LAYOUT_CHANNELS: Record<string, number> = {
  mono: 1,
  stereo: 2,
  '2.1': 3,
  '3.0': 3,
  '3.0(back)': 3,
  '4.0': 4,
  quad: 4,
  'quad(side)': 4,
  '3.1': 4,
  '5.0': 5,
  '5.0(side)': 5,
  '4.1': 5,
  '5.1': 6,
  '5.1(side)': 6,
  '6.0': 6,
  '6.0(front)': 6,
  hexagonal: 6,
  '6.1': 7,
  '6.1(back)': 7,
  '6.1(front)': 7,
  '7.0': 7,
  '7.0(front)': 7,
  '7.1': 8,
  '7.1(wide)': 8,
  '7.1(wide-side)': 8,
  octagonal: 8,
  downmix: 2,
};

const INPUT_RE = /^(?:\[info\] )?Input #0, (.+?), from '/;
const DURATION_RE =
  /^(?:\[info\] )?\s+Duration: (?:(\d+):(\d\d):(\d\d(?:\.\d+)?)|N\/A)(?:, start: (-?\d+\.\d+))?/;
const STREAM_RE = /^(?:\[info\] )?\s+Stream #0:\d+(?:\[0x[0-9a-f]+\])?(?:\([^)]*\))?: (\w+): (.*)$/;

/** "25", "29.97", "1k" (print_fps) as a number; 29.97 and kin as the NTSC rate they round. */
function printedRate(text: string): number {
  const value = text.endsWith('k') ? Number(text.slice(0, -1)) * 1000 : Number(text);
  if (!Number.isFinite(value) || value <= 0) return 0;
  // print_fps keeps two decimals: 30000/1001 is printed 29.97. ffprobe reports the exact ratio.
  const ntsc = Math.round((value * 1001) / 1000);
  if (!Number.isInteger(value) && Math.abs((ntsc * 1000) / 1001 - value) < 0.006) return (ntsc * 1000) / 1001;
  return value;
}

/** The channel count of a layout as FFmpeg describes it, or null when not recognised. */
function layoutChannels(layout: string): number | null {
  if (layout in LAYOUT_CHANNELS) return LAYOUT_CHANNELS[layout];
  const counted = /^(\d+) channels\b/.exec(layout);
  if (counted) return Number(counted[1]);
  if (/^[A-Z]+(?:\+[A-Z]+)+$/.test(layout)) return layout.split('+').length;
  return null;
}

/**
 * The tracks described by ffmpeg's `Input #0` block in `lines` (stderr lines, `[info] ` level
 * prefixes allowed), chosen as probe.ts chooses from ffprobe's answer: the first video stream with
 * a size that is not cover art, the first audio stream with channels. Null when the block is
 * missing or holds anything not read with certainty.
 */
export function tracksFromInputHeader(lines: readonly string[]): TrackInfo | null {
  const start = lines.findIndex((l) => INPUT_RE.test(l));
  if (start < 0) return null;
  const formatName = (INPUT_RE.exec(lines[start]) as RegExpExecArray)[1];
  let duration: number | null = null;
  let startTime: number | null = null;
  let video: TrackInfo['video'] = null;
  let audio: TrackInfo['audio'] = null;
  let streams = 0;
  for (const line of lines.slice(start + 1)) {
    if (/^(?:\[info\] )?(?:Stream mapping:|Output #|Input #)/.test(line)) break;
    const d = DURATION_RE.exec(line);
    if (d) {
      if (d[1] !== undefined) duration = Number(d[1]) * 3600 + Number(d[2]) * 60 + Number(d[3]);
      if (d[4] !== undefined) startTime = Number(d[4]);
      continue;
    }
    const s = STREAM_RE.exec(line);
    if (!s) continue;
    streams++;
    const [, type, description] = s;
    const codec = /^([\w-]+)/.exec(description)?.[1];
    if (type === 'Video') {
      if (!codec || codec === 'none') return null;
      if (video || / \(attached pic\)/.test(description)) continue;
      const size = /, (\d+)x(\d+)(?=[ ,]|$)/.exec(description);
      if (!size) return null;
      const fps = /, ([\d.]+k?) fps(?=,|$)/.exec(description) ?? /, ([\d.]+k?) tbr(?=,|$)/.exec(description);
      video = {
        codec,
        width: Number(size[1]),
        height: Number(size[2]),
        frameRate: fps ? printedRate(fps[1]) : 0,
      };
    } else if (type === 'Audio') {
      if (!codec || codec === 'none') return null;
      if (audio) continue;
      const layout = /, (\d+) Hz, ([^,]+)/.exec(description);
      if (!layout) return null;
      const channels = layoutChannels(layout[2].trim());
      if (!channels) return null;
      audio = { codec, sampleRate: Number(layout[1]), channels };
    }
  }
  if (streams === 0 || (!video && !audio)) return null;
  return { video, audio, duration: duration && duration > 0 ? duration : null, startTime, formatName };
}
