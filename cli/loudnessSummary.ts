/**
 * `streamqc analyze --loudness r128|a85`: the programme's loudness as the recommendations measure
 * it — integrated loudness, loudness range, true peak — and whether it complies with EBU R128 or
 * ATSC A/85 (shared/loudnessStandards.ts).
 */
import { LOUDNESS_STANDARDS, type LoudnessStandard, loudnessVerdict } from '../shared/loudnessStandards.js';
import type { AudioChunk } from '../worker/converter/types.js';
import { LoudnessMeter } from '../worker/detectors/loudnessMeter.js';

export interface LoudnessSummary {
  standard: string;
  integratedLufs: number | null;
  rangeLu: number;
  truePeakDbtp: number | null;
  samplePeakDbfs: number | null;
  seconds: number;
  compliant: boolean;
  /** Why not, when not compliant. */
  reasons: string[];
}

const rounded = (x: number) => (Number.isFinite(x) ? Math.round(x * 10) / 10 : null);

/** Feeds the decoded sound of a whole programme through one meter (a new one if the format changes). */
export class ProgrammeLoudness {
  private meter: LoudnessMeter | null = null;
  private seconds = 0;

  constructor(private readonly standard: LoudnessStandard) {}

  sound(chunk: AudioChunk): void {
    if (!this.meter || this.meter.sampleRate !== chunk.sampleRate || this.meter.channels !== chunk.channels)
      this.meter = new LoudnessMeter(chunk.sampleRate, chunk.channels, true);
    this.meter.push(chunk.samples);
    this.seconds += chunk.samples.length / chunk.channels / chunk.sampleRate;
  }

  summary(): LoudnessSummary {
    const rule = LOUDNESS_STANDARDS[this.standard];
    const m = this.meter;
    const integrated = m ? m.integrated : Number.NEGATIVE_INFINITY;
    const truePeak = m ? m.truePeakDbtp : Number.NEGATIVE_INFINITY;
    const { compliant, reasons } = loudnessVerdict(this.standard, integrated, truePeak);
    return {
      standard: rule.name,
      integratedLufs: rounded(integrated),
      rangeLu: rounded(m?.range ?? 0) ?? 0,
      truePeakDbtp: rounded(truePeak),
      samplePeakDbfs: rounded(m ? m.samplePeakDbfs : Number.NEGATIVE_INFINITY),
      seconds: Math.round(this.seconds * 10) / 10,
      compliant,
      reasons,
    };
  }
}

/** The summary as one line of text. */
export function formatLoudness(s: LoudnessSummary): string {
  const f = (x: number | null, unit: string) => (x === null ? '–' : `${x.toFixed(1)} ${unit}`);
  return (
    `loudness (${s.standard}, ${s.seconds} s): I ${f(s.integratedLufs, 'LUFS')}, LRA ${s.rangeLu.toFixed(1)} LU, ` +
    `true peak ${f(s.truePeakDbtp, 'dBTP')} (sample peak ${f(s.samplePeakDbfs, 'dBFS')}): ` +
    (s.compliant ? 'compliant' : `not compliant — ${s.reasons.join('; ')}`)
  );
}
