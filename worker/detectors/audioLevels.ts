/** Level helpers shared by the audio detectors. */

/** Floor of reported levels: digital silence reads as this rather than −Infinity. */
export const SILENCE_FLOOR_DBFS = -150;

/** Linear amplitude (1.0 = full scale) to dBFS, floored at SILENCE_FLOOR_DBFS. */
export function toDbfs(amplitude: number): number {
  return amplitude > 0 ? Math.max(SILENCE_FLOOR_DBFS, 20 * Math.log10(amplitude)) : SILENCE_FLOOR_DBFS;
}

/** dBFS to linear amplitude. */
export function fromDbfs(dbfs: number): number {
  return 10 ** (dbfs / 20);
}
