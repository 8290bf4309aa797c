/**
 * The environment the converter's ffmpeg runs in: with worker/ffmpeg/linebuffer.c preloaded when
 * it was built (dist/native/linebuffer.so: scripts/build-linebuffer.mjs where a C compiler is, the
 * worker image always), so its log leaves a whole line per write(2) instead of a piece — five
 * times fewer writes to the socket for the same lines. STREAMQC_FFMPEG_LINEBUFFER=0 turns it off.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../shared/projectRoot.js';

let library: string | null | undefined;

/** The built library, or null (not built, or turned off). */
export function lineBufferLibrary(): string | null {
  if (process.env.STREAMQC_FFMPEG_LINEBUFFER === '0') return null;
  if (library === undefined) {
    try {
      const built = join(projectRoot(), 'dist', 'native', 'linebuffer.so');
      library = existsSync(built) ? built : null;
    } catch {
      library = null;
    }
  }
  return library;
}

/** The converter ffmpeg's environment: this process's, with the library preloaded (if any). */
export function converterEnv(): NodeJS.ProcessEnv | undefined {
  const so = lineBufferLibrary();
  if (!so) return undefined;
  const preload = process.env.LD_PRELOAD;
  return { ...process.env, LD_PRELOAD: preload ? `${so} ${preload}` : so };
}
