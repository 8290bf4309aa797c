/**
 * Delivery loudness standards a programme is judged against: EBU R128 (−23 LUFS ± 1 LU, true peak
 * ≤ −1 dBTP) and ATSC A/85 (−24 LKFS ± 2 dB, true peak ≤ −2 dBTP). Used by `streamqc analyze
 * --loudness` and by a stream's loudness log.
 */
export const LOUDNESS_STANDARDS = {
  r128: { name: 'EBU R128', targetLufs: -23, toleranceLu: 1, maxTruePeakDbtp: -1 },
  a85: { name: 'ATSC A/85', targetLufs: -24, toleranceLu: 2, maxTruePeakDbtp: -2 },
} as const;
export type LoudnessStandard = keyof typeof LOUDNESS_STANDARDS;
export const LOUDNESS_STANDARD_IDS = Object.keys(LOUDNESS_STANDARDS) as [
  LoudnessStandard,
  ...LoudnessStandard[],
];

/** Whether integrated loudness and true peak comply, and why not (empty when they do). */
export function loudnessVerdict(
  standard: LoudnessStandard,
  integratedLufs: number,
  truePeakDbtp: number,
): { compliant: boolean; reasons: string[] } {
  const rule = LOUDNESS_STANDARDS[standard];
  const reasons: string[] = [];
  if (!Number.isFinite(integratedLufs)) reasons.push('no sound above the −70 LUFS gate');
  else if (Math.abs(integratedLufs - rule.targetLufs) > rule.toleranceLu)
    reasons.push(
      `integrated ${integratedLufs.toFixed(1)} LUFS, outside ${rule.targetLufs} ± ${rule.toleranceLu}`,
    );
  if (truePeakDbtp > rule.maxTruePeakDbtp)
    reasons.push(`true peak ${truePeakDbtp.toFixed(1)} dBTP, over ${rule.maxTruePeakDbtp}`);
  return { compliant: reasons.length === 0, reasons };
}
