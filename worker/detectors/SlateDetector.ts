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
  grid: CellGrid = cellGrid(frame.width, frame.height),
): Float64Array {
  const { width, height, luma } = frame;
  into.fill(0);
  for (let y = 0; y < height; y++) {
    const row = grid.rows[y] * COLS;
    const base = y * width;
    // Every other sample across: the cell mean is no different, and it costs half.
    for (let x = 0; x < width; x += 2) into[row + grid.cols[x]] += luma[base + x];
  }
  for (let i = 0; i < into.length; i++) into[i] = grid.counts[i] ? into[i] / grid.counts[i] : 0;
  return into;
}

/** Which cell each sample of a picture size falls in, and how many samples each cell gets. */
export interface CellGrid {
  width: number;
  height: number;
  cols: Uint8Array;
  rows: Uint8Array;
  counts: Uint32Array;
}

export function cellGrid(width: number, height: number): CellGrid {
  const cols = new Uint8Array(width);
  const rows = new Uint8Array(height);
  for (let x = 0; x < width; x++) cols[x] = Math.min(COLS - 1, Math.floor((x * COLS) / width));
  for (let y = 0; y < height; y++) rows[y] = Math.min(ROWS - 1, Math.floor((y * ROWS) / height));
  const counts = new Uint32Array(COLS * ROWS);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x += 2) counts[rows[y] * COLS + cols[x]]++;
  return { width, height, cols, rows, counts };
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
  private grid: CellGrid | null = null;
  readonly ready: Promise<void>;

  constructor(private readonly context: DetectorContext) {
    this.ready = (context.slate ?? Promise.resolve(null)).then((signature) => {
      this.slate = signature;
    });
  }

  onVideo(frame: VideoFrame): void {
    const slate = this.slate;
    if (!slate) return;
    // The cell of each sample is worked out once per picture size, not per picture.
    if (this.grid?.width !== frame.width || this.grid.height !== frame.height)
      this.grid = cellGrid(frame.width, frame.height);
    const distance = slateDistance(cellMeans(frame, this.cells, this.grid), slate);
    this.context.emit({
      type: this.type,
      t: frame.t,
      duration: frame.duration,
      active: distance < MATCH_DISTANCE,
      detail: { slateDistance: Math.round(distance * 10) / 10 },
    });
  }
}
