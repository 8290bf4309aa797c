/** Builds the one ffmpeg command line per stream: decode once, hand luma and PCM to Node on two pipes. */
import { plainUrl } from '../egress/plainUrl.js';
import {
  isLiveKind,
  PROTOCOL_WHITELIST,
  PROXIED_HTTP_WHITELIST,
  readsThroughProxy,
  type SourceKind,
} from './sourceKind.js';
import type { TrackInfo } from './types.js';

export interface FfmpegArgsOptions {
  kind: SourceKind;
  tracks: TrackInfo;
  /** Read the input at its native rate (-re); for http sources that are really files. */
  realtime: boolean;
  /** Decoder threads; 1 is the cheapest per stream, more keeps one heavy stream real-time. */
  threads?: number;
  /** Extra input options placed before -i (e.g. an http proxy). */
  inputArgs?: string[];
  /** Network read timeout in seconds. */
  readTimeoutSeconds?: number;
  /**
   * Decode only reference pictures (`-skip_frame noref`): nothing is predicted from the others,
   * so damage in one never spreads, and the detectors see every reference picture. The
   * `reference` decode profile; `full` decodes everything.
   */
  skipNonReference?: boolean;
  /**
   * A small colour JPEG of the decoded picture at most this often (seconds of media), on pipe:5,
   * for the console's mosaic and the evidence of video alarms. Absent or 0: none.
   */
  thumbnailSeconds?: number;
}

/** Thumbnail width in pixels (the height keeps the picture's shape). */
export const THUMBNAIL_WIDTH = 320;

/** The log name of the thumbnail branch's showinfo: its lines date each JPEG. */
export const THUMBNAIL_INFO = 'showinfo@thumb';

/**
 * Integer horizontal downscale factor for a source width: 1 up to 1280, 2 up to 2560, 4 beyond.
 * Integer and nearest-neighbour, so the codec's block grid stays aligned in what Node receives.
 */
export function analysisScale(sourceWidth: number): number {
  if (sourceWidth <= 1280) return 1;
  return sourceWidth <= 2560 ? 2 : 4;
}

/**
 * Only every ROW_STEP-th row (after the horizontal downscale) goes to Node. Every detector reads
 * the picture on a sparse grid anyway, and block edges are steps along a row, so rows at full
 * analysis width keep what the block-corruption check needs while piping an eighth of the bytes.
 */
export const ROW_STEP = 8;

/**
 * A live input that gives up after `seconds` without data. FFmpeg's UDP reader replaces
 * -rw_timeout with its own `timeout` (default: wait for ever), so a reader whose datagrams stop
 * (a feed gone quiet, or the relay of a worker that died) would block for ever: an orphan nobody
 * stops, holding its port. RTP takes that timeout only in its URL.
 */
export function withReadTimeout(source: string, seconds: number): { args: string[]; input: string } {
  const us = String(Math.round(seconds * 1e6));
  const args = ['-rw_timeout', us];
  if (source.startsWith('udp:')) return { args: [...args, '-timeout', us], input: source };
  if (source.startsWith('rtp:') && !/[?&]timeout=/.test(source))
    return { args, input: `${source}${source.includes('?') ? '&' : '?'}timeout=${us}` };
  return { args, input: source };
}

/** `expr` with the commas a filtergraph would split on escaped. */
const escaped = (expr: string): string => expr.replaceAll(',', '\\,');

/** analysisScale as a filter expression of the input width `iw`. */
const SCALE = 'if(gt(iw,2560),4,if(gt(iw,1280),2,1))';

/**
 * The analysis picture, whatever the source's width (so a recorded file's converter, started
 * before its width is known, is the right one: openRecorded.ts): the luma plane, every
 * analysisScale-th column, and one row in `analysisScale · ROW_STEP`, the middle one of each run.
 *
 * Rows are picked by `field` (stride arithmetic, without copying: the decoded frame is never
 * touched beyond the rows kept; a scale filter read the whole luma plane, and extractplanes copied
 * it, for an eighth of it: ~0.15 CPU s per minute of 720p25). Three top fields keep rows 0, 8, 16…
 * of a picture cropped (a pointer move) by ROW_STEP/2 rows at the top at scale 1, so rows 4, 12,
 * 20…; wider pictures are cropped to whole runs at the bottom, and the nearest-neighbour scale keeps
 * the middle ones (rows 8, 24, 40… at scale 2; 16, 48… at scale 4; rowPicker.test.ts checks
 * it on pictures whose every row carries its own number). At scale 1 the scale filter passes the
 * frame through. The picture's scale is its sample aspect ratio (`sar:S/1` in showinfo's line).
 */
export function analysisChain(): string[] {
  const fields = Array.from({ length: Math.round(Math.log2(ROW_STEP)) }, () => 'field=top');
  const top = escaped(`if(gt(iw,1280),0,${ROW_STEP / 2})`);
  // Wider pictures: whole runs only, so the scale's ratio is exactly analysisScale (no drift).
  const run = `${ROW_STEP}*${SCALE}`;
  const height = escaped(`if(gt(iw,1280),trunc(ih/(${run}))*${run},ih-${ROW_STEP / 2})`);
  const scale = escaped(SCALE);
  return [
    `crop=w=iw:h=${height}:x=0:y=${top}`,
    ...fields,
    'extractplanes=y',
    // The scale travels with each picture as its sample aspect ratio (S:1, kept exactly by the
    // scale filter: whole runs, both sides divided by S), which showinfo prints: a source that
    // changes width mid-stream (an ABR switch) changes it with the picture. setsar calls the
    // width `w`.
    `setsar=${scale.replaceAll('iw', 'w')}`,
    `scale=w=iw/${scale}:h=ih/${scale}:flags=neighbor`,
    // format=gray: one byte per sample whatever the source's depth (10-bit sources' luma plane
    // is gray10le, two bytes a sample); swscale converts on the small picture.
    'format=gray',
  ];
}

/**
 * The ffmpeg arguments. Video leaves as the luma plane only (extractplanes: a copy, no colour
 * conversion), audio as float PCM; showinfo/ashowinfo print each frame's timestamp on stderr so
 * Node can pair every raw frame with its media time. Deblocking is skipped on non-reference
 * frames: nothing is predicted from them, so it changes no other picture and saves decode time.
 */
export function ffmpegArgs(registered: string, options: FfmpegArgsOptions): string[] {
  const { kind, tracks } = options;
  const proxied = readsThroughProxy(options.inputArgs);
  const source = proxied ? plainUrl(registered) : registered;
  const threads = String(options.threads ?? 1);
  const args = [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-loglevel',
    'level+info',
    '-filter_threads',
    threads,
    '-protocol_whitelist',
    proxied ? PROXIED_HTTP_WHITELIST : PROTOCOL_WHITELIST[kind],
  ];
  let input = source;
  if (isLiveKind(kind)) {
    const timed = withReadTimeout(source, options.readTimeoutSeconds ?? 10);
    input = timed.input;
    args.push(...timed.args, '-analyzeduration', '2000000', '-probesize', '2000000');
  }
  if (kind === 'http') args.push('-reconnect', '1', '-reconnect_streamed', '1', '-reconnect_delay_max', '4');
  if (options.realtime) args.push('-re');
  // -copyts: frames keep the source's own timestamps, so the media clock can line up the runs of
  // a restarted converter and tell a splice from an outage (MediaClock.ts).
  args.push(
    '-copyts',
    '-threads',
    threads,
    '-skip_loop_filter',
    'noref',
    ...(options.skipNonReference ? ['-skip_frame', 'noref'] : []),
    ...(options.inputArgs ?? []),
    '-i',
    input,
  );
  if (tracks.video) {
    const filters = [...analysisChain(), 'showinfo=checksum=0'];
    const every = options.thumbnailSeconds ?? 0;
    if (every > 0) {
      // The same decoded pictures, split (no copy): one now and then leaves as a small JPEG.
      // abs(): a timeline that steps back (a splice, a wrap) keeps its thumbnails coming.
      const thumb = [
        `select='isnan(prev_selected_t)+gte(abs(t-prev_selected_t)\\,${every})'`,
        // One field (rows picked by stride, no copy): half the rows to scale, and no combing.
        'field=top',
        `scale=${THUMBNAIL_WIDTH}:'2*trunc(${THUMBNAIL_WIDTH}*ih/iw)':flags=fast_bilinear`,
        'setsar=1',
        `${THUMBNAIL_INFO}=checksum=0`,
      ];
      args.push(
        '-filter_complex',
        `[0:v:0]split=2[analysis][thumb];[analysis]${filters.join(',')}[luma];[thumb]${thumb.join(',')}[jpeg]`,
        '-map',
        '[luma]',
        '-fps_mode',
        'passthrough',
        '-f',
        'rawvideo',
        'pipe:3',
        '-map',
        '[jpeg]',
        '-fps_mode',
        'passthrough',
        '-c:v',
        'mjpeg',
        '-q:v',
        '6',
        '-f',
        'image2pipe',
        'pipe:5',
      );
    } else {
      args.push('-map', '0:v:0', '-vf', filters.join(','), '-fps_mode', 'passthrough');
      args.push('-f', 'rawvideo', 'pipe:3');
    }
  }
  if (tracks.audio) {
    args.push(
      '-map',
      '0:a:0',
      '-af',
      'aformat=sample_fmts=flt,asetnsamples=n=4800:p=0,ashowinfo',
      '-f',
      'f32le',
      'pipe:4',
    );
  }
  return args;
}
