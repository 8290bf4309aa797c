/**
 * TR 101 290 2.4, PCR accuracy (PCR_AC): on a constant-rate transport stream each PCR must be
 * within ±500 ns of the time its position in the stream gives — the byte holding the last bit of
 * its program_clock_reference_base, at the stream's rate. The rate and the line are fitted (least
 * squares) to the previous PCRs of the PID (up to WINDOW of them), and the new PCR is judged
 * against that line. The stream counts as constant-rate when it is padded with null packets (as a
 * constant-rate multiplexer pads it) and those previous PCRs lie within CONSTANT_RATE_NS of their
 * own line; a variable-rate stream (most files FFmpeg writes without `-muxrate`, HLS segments) is
 * not judged at all: its PCRs follow its bytes only loosely by design.
 *
 * Also the PCR intervals (2.3's figure) for the transport report.
 */

/** TR 101 290 2.4: ±500 ns. */
export const PCR_ACCURACY_NS = 500;
/** Previous PCRs the line is fitted to, at most, and at least before judging. */
const WINDOW = 16;
const MIN_POINTS = 8;
/** Previous PCRs all this close to their line: a constant-rate stream. */
const CONSTANT_RATE_NS = 10_000;
const TICKS_PER_NS = 0.027;

export interface PcrFigures {
  /** PCRs seen on the PCR PID. */
  count: number;
  /** Largest and mean interval between consecutive PCRs, ms (PCR time). */
  maxIntervalMs: number | null;
  meanIntervalMs: number | null;
  /** Whether the PCRs follow a constant rate (judged for accuracy); null before enough PCRs. */
  constantRate: boolean | null;
  /** Largest |PCR − position-based time| among PCRs judged, ns; null when none was judged. */
  maxAccuracyNs: number | null;
  /** The transport rate the PCRs give, bit/s (the latest fit); null before enough PCRs. */
  bitrate: number | null;
  /** PCRs off by more than ±500 ns on a constant-rate stream. */
  accuracyErrors: number;
}

export class PcrAccuracy {
  /** Previous PCRs: byte position and PCR (27 MHz ticks, unwrapped), oldest first. */
  private points: { at: number; pcr: number }[] = [];
  private count = 0;
  private intervalSum = 0;
  private intervals = 0;
  private maxInterval = 0;
  private constant: boolean | null = null;
  private maxError: number | null = null;
  private bitrate: number | null = null;
  private errors = 0;

  /**
   * One PCR at byte position `at` (27 MHz ticks, `delta` since the previous one when known and
   * plausible, else null: a discontinuity, a wrap not unwrapped, a step back — the line starts
   * afresh); `padded`: the stream has carried null packets. Returns true when it is off by more
   * than ±500 ns on a constant-rate stream.
   */
  add(at: number, delta: number | null, padded = true): boolean {
    this.count++;
    const last = this.points.at(-1);
    if (!last || delta === null) {
      this.points = [{ at, pcr: 0 }];
      return false;
    }
    this.intervals++;
    this.intervalSum += delta;
    this.maxInterval = Math.max(this.maxInterval, delta);
    const pcr = last.pcr + delta;
    let off = false;
    if (this.points.length >= MIN_POINTS) {
      const line = lineThrough(this.points);
      const spread = Math.max(...this.points.map((p) => Math.abs(p.pcr - line.at(p.at))));
      this.constant = padded && spread / TICKS_PER_NS <= CONSTANT_RATE_NS;
      this.bitrate = line.slope > 0 ? (8 * 27e6) / line.slope : null;
      if (this.constant) {
        const errorNs = Math.abs(pcr - line.at(at)) / TICKS_PER_NS;
        this.maxError = Math.max(this.maxError ?? 0, errorNs);
        off = errorNs > PCR_ACCURACY_NS;
        if (off) this.errors++;
      }
    }
    this.points.push({ at, pcr });
    if (this.points.length > WINDOW) this.points.shift();
    return off;
  }

  get figures(): PcrFigures {
    const ms = (ticks: number) => Math.round((ticks / 27e3) * 100) / 100;
    return {
      count: this.count,
      maxIntervalMs: this.intervals ? ms(this.maxInterval) : null,
      meanIntervalMs: this.intervals ? ms(this.intervalSum / this.intervals) : null,
      constantRate: this.constant,
      maxAccuracyNs: this.maxError === null ? null : Math.round(this.maxError),
      bitrate: this.bitrate === null ? null : Math.round(this.bitrate),
      accuracyErrors: this.errors,
    };
  }
}

/** The least-squares line of PCR against position: `at(x)` and ticks per byte. */
function lineThrough(points: { at: number; pcr: number }[]): { at: (x: number) => number; slope: number } {
  const n = points.length;
  // Relative to the first point: positions and PCRs of a long stream are large.
  const x0 = points[0].at;
  const y0 = points[0].pcr;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    const x = p.at - x0;
    sx += x;
    const y = p.pcr - y0;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  const slope = (n * sxy - sx * sy) / (n * sxx - sx * sx || 1);
  const intercept = (sy - slope * sx) / n;
  return { at: (x: number) => y0 + intercept + slope * (x - x0), slope };
}
