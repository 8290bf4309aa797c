/**
 * audio.phase: the first two channels (a stereo pair) in opposite phase — their correlation below
 * −0.5 while both carry sound (above −50 dBFS) — for ≥ 3 s, judged in 100 ms blocks. A listener
 * on a mono device (a phone, a kitchen radio, a downmix) hears the programme cancel out. FFmpeg's
 * aphasemeter measures the same correlation; `detail.minCorrelation` is the lowest seen.
 */
import type { AudioChunk } from '../converter/types.js';
import { fromDbfs } from './audioLevels.js';
import { pairSums } from './kernels/kernels.js';
import type { Detector, DetectorContext } from './types.js';

const BLOCKS_PER_SECOND = 10;
/** Both channels must carry at least this much (dBFS RMS) for the correlation to mean anything. */
const SIGNAL_DBFS = -50;

export class PhaseDetector implements Detector {
  readonly type = 'audio.phase' as const;

  constructor(private readonly context: DetectorContext) {}

  onAudio(chunk: AudioChunk): void {
    const { samples, channels, sampleRate } = chunk;
    if (channels < 2) return;
    const limit = this.context.thresholds.channels.phaseCorrelation;
    const floor = fromDbfs(SIGNAL_DBFS) ** 2;
    const frames = samples.length / channels;
    const blockFrames = Math.max(1, Math.round(sampleRate / BLOCKS_PER_SECOND));
    const sums = pairSums(chunk, blockFrames);
    for (let k = 0, from = 0; from < frames; k++, from += blockFrames) {
      const to = Math.min(frames, from + blockFrames);
      const ll = sums[3 * k];
      const rr = sums[3 * k + 1];
      const lr = sums[3 * k + 2];
      const n = to - from;
      const signal = ll / n > floor && rr / n > floor;
      const correlation = signal ? lr / Math.sqrt(ll * rr) : 1;
      const active = signal && correlation < limit;
      this.context.emit({
        type: this.type,
        t: chunk.t + from / sampleRate,
        duration: n / sampleRate,
        active,
        ...(active ? { detail: { minCorrelation: Math.round(correlation * 100) / 100 } } : {}),
      });
    }
  }
}
