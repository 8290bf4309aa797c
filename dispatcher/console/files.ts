/**
 * The operator console's files (a page, a script, a style sheet: no build step), served by the
 * API itself without credentials: they hold no data; the page asks the API for it with the
 * caller's own key. Locally read from this folder; in the Lambda bundle from STREAMQC_CONSOLE_DIR.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../shared/projectRoot.js';
import { ApiError, type ApiResponse } from '../types.js';

const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

/** The page may load only its own script and style, and talk only to this API (and S3 links). */
const POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self' https:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const cache = new Map<string, Buffer>();

function folder(): string {
  return process.env.STREAMQC_CONSOLE_DIR || join(projectRoot(), 'dispatcher', 'console');
}

export function consoleFile(name: string): ApiResponse {
  const contentType = FILES[name];
  if (!contentType) throw new ApiError(404, 'not_found', 'no such console file');
  let bytes = cache.get(name);
  if (!bytes) {
    bytes = readFileSync(join(folder(), name));
    cache.set(name, bytes);
  }
  return {
    status: 200,
    headers: {
      'cache-control': 'no-cache',
      'content-security-policy': POLICY,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    },
    body: null,
    raw: { bytes, contentType },
  };
}
