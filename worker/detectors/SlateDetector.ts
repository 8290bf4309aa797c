/**
 * video.slate: the stream's own slate picture (a PNG or JPEG the owner registered) is on screen.
 * Not a defect: while it is, black, freeze and silence are held back (alarms/Inhibitor.ts), as in
 * an ad break. The slate (decoded once by converter/slate.ts) and each picture are reduced to 32×18
 * cell means of luma; a picture whose cells differ from the slate's by less than MATCH_DISTANCE
 * code values on average is the slate. Encoding moves cell means by a code value or two; any other
 * picture by tens. Pure: the slate comes decoded through the context.
 */
import { SLATE_COLS as COLS, SLATE_ROWS as ROWS } from '../converter/slate.js';
import type { VideoFrame } from '../converter/types.js';
import type { Detector, DetectorContext } from './types.js';

/** Mean absolute difference of the cell means (0–255) under which a picture is the slate. */
const MATCH_DISTANCE = 10;

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
    this.ready = (context.slate ?? Promise.resolve(null)).then((signature) => {
      this.slate = signature;
    });
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
