/**
 * How much of the picture stream is decoded: `reference` (the default) only the pictures others
 * are predicted from, which every detector is measured to need (docs/detection.md, "Decode profiles");
 * `full` every picture. Kept free of zod: `analyze` and the worker's config read it at start-up.
 */
export const DECODE_PROFILES = ['reference', 'full'] as const;
export type DecodeProfile = (typeof DECODE_PROFILES)[number];

export function isDecodeProfile(value: string): value is DecodeProfile {
  return (DECODE_PROFILES as readonly string[]).includes(value);
}
