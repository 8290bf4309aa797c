/**
 * A stream's slate picture (a PNG or JPEG the owner registered) reduced by FFmpeg to what
 * video.slate compares pictures with: 32×18 cell means of full-range luma.
 */
import { spawn } from 'node:child_process';

export const SLATE_COLS = 32;
export const SLATE_ROWS = 18;

/** The slate's signature, decoded from its PNG or JPEG (base64); rejects with why it cannot be. */
export function slateSignature(base64: string, signal?: AbortSignal): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const ffmpeg = spawn(
      'ffmpeg',
      [
        ...['-hide_banner', '-v', 'error', '-nostdin', '-f', 'image2pipe', '-i', 'pipe:0'],
        ...[
          '-vf',
          `scale=${SLATE_COLS}:${SLATE_ROWS}:flags=area,format=gray`,
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
      if (code === 0 && pixels.length === SLATE_COLS * SLATE_ROWS) resolve(new Uint8Array(pixels));
      else reject(new Error(`the slate picture cannot be decoded: ${errors.trim() || `exit ${code}`}`));
    });
    ffmpeg.stdin.on('error', () => {});
    ffmpeg.stdin.end(Buffer.from(base64, 'base64'));
  });
}

/**
 * The `slate` of a stream's detector context: the signature, or null (logged) when the picture
 * cannot be decoded; none at all when the stream has no slate.
 */
export function slateContext(
  base64: string | undefined,
  logger: { warn(o: object, message: string): void },
): { slate?: Promise<Uint8Array | null> } {
  if (!base64) return {};
  return {
    slate: slateSignature(base64).catch((e: Error) => {
      logger.warn({ err: e.message }, 'slate not used');
      return null;
    }),
  };
}
