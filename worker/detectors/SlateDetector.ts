/**
 * video.slate: the stream's own slate picture (a PNG or JPEG the owner registered) is on screen.
 * Not a defect: while it is, black, freeze and silence are held back (alarms/Inhibitor.ts), as in
 * an ad break. The slate and each picture are reduced to 32×18 cell means of luma (full range);
 * a picture whose cells differ from the slate's by less than MATCH_DISTANCE code values on average
 * is the slate. Encoding moves cell means by a code value or two; any other picture by tens.
 */
import { spawn } from 'node:child_process';
import type { VideoFrame } from '../converter/types.js';
import type { Detector, DetectorContext } from './types.js';

const COLS = 32;
const ROWS = 18;
/** Mean absolute difference of the cell means (0–255) under which a picture is the slate. */
const MATCH_DISTANCE = 10;

/** The slate as 32×18 cell means of full-range luma, decoded by FFmpeg from its PNG or JPEG. */
export function slateSignature(base64: string, signal?: AbortSignal): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const ffmpeg = spawn(
      'ffmpeg',
      [
        ...['-hide_banner', '-v', 'error', '-nostdin', '-f', 'image2pipe', '-i', 'pipe:0'],
        ...[
          '-vf',
          `scale=${COLS}:${ROWS}:flags=area,format=gray`,
          '-frames:v',
          '1',
          '-f',
          'rawvideo',
          'pipe:1',
        ],
      ],
      { stdio: ['pipe', 'pipe', 'pipe'], signal },
    );
    const out: Buffer[] = [];
    let errors = '';
    ffmpeg.stdout.on('data', (c: Buffer) => out.push(c));
    ffmpeg.stderr.on('data', (c: Buffer) => {
      errors = `${errors}${c}`.slice(-500);
    });
    ffmpeg.on('error', reject);
    ffmpeg.on('close', (code) => {
      const pixels = Buffer.concat(out);
      if (code === 0 && pixels.length === COLS * ROWS) resolve(new Uint8Array(pixels));
      else reject(new Error(`the slate picture cannot be decoded: ${errors.trim() || `exit ${code}`}`));
    });
    ffmpeg.stdin.on('error', () => {});
    ffmpeg.stdin.end(Buffer.from(base64, 'base64'));
  });
}

/** A picture's 32×18 cell means of luma, as decoded (0–255 code values). */
export function cellMeans(
  frame: VideoFrame,
  into: Float64Array = new Float64Array(COLS * ROWS),
): Float64Array {
  const { width, height, luma } = frame;
  into.fill(0);
  const counts = new Uint32Array(COLS * ROWS);
  for (let y = 0; y < height; y++) {
    const row = Math.min(ROWS - 1, Math.floor((y * ROWS) / height));
    const base = y * width;
    // Every other sample across: the cell mean is no different, and it costs half.
    for (let x = 0; x < width; x += 2) {
      const cell = row * COLS + Math.min(COLS - 1, Math.floor((x * COLS) / width));
      into[cell] += luma[base + x];
      counts[cell]++;
    }
  }
  for (let i = 0; i < into.length; i++) into[i] = counts[i] ? into[i] / counts[i] : 0;
  return into;
}

/**
 * Mean absolute difference between a picture's cells and the slate's (full range). Streams often
 * do not say their range (or say it wrongly), so the picture is read both as full range and as
 * studio range (16–235, stretched): the nearer reading counts.
 */
export function slateDistance(cells: Float64Array, slate: Uint8Array): number {
  let full = 0;
  let studio = 0;
  for (let i = 0; i < cells.length; i++) {
    full += Math.abs(cells[i] - slate[i]);
    studio += Math.abs(Math.max(0, Math.min(255, ((cells[i] - 16) * 255) / 219)) - slate[i]);
  }
  return Math.min(full, studio) / cells.length;
}

export class SlateDetector implements Detector {
  readonly type = 'video.slate' as const;
  private slate: Uint8Array | null = null;
  private readonly cells = new Float64Array(COLS * ROWS);
  readonly ready: Promise<void>;

  constructor(private readonly context: DetectorContext) {
    const picture = context.slate;
    this.ready = picture
      ? slateSignature(picture).then(
          (signature) => {
            this.slate = signature;
          },
          (e: Error) => context.log?.(`slate not used: ${e.message}`),
        )
      : Promise.resolve();
  }

  onVideo(frame: VideoFrame): void {
    const slate = this.slate;
    if (!slate) return;
    const distance = slateDistance(cellMeans(frame, this.cells), slate);
    this.context.emit({
      type: this.type,
      t: frame.t,
      duration: frame.duration,
      active: distance < MATCH_DISTANCE,
      detail: { slateDistance: Math.round(distance * 10) / 10 },
    });
  }
}
