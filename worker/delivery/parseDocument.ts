/**
 * One untrusted document (HLS playlist or DASH MPD) read into plain data: what the parsing
 * thread runs (manifestThread.ts), and what runs in-process where no sandbox is wanted.
 */
import { type DashManifest, parseMpd } from './dashManifest.js';
import { FetchError, ManifestRefused } from './guardedGet.js';
import { type HlsMaster, type HlsMedia, parseHls } from './hlsPlaylist.js';

export type DocumentKind = 'hls' | 'mpd';
export type ParsedDocument = HlsMaster | HlsMedia | ({ kind: 'mpd' } & DashManifest);

export interface ParseJob {
  kind: DocumentKind;
  text: string;
  /** Where the document was loaded from (relative URIs resolve against it). */
  url: string;
  nowMs: number;
}

export function parseDocument(job: ParseJob): ParsedDocument {
  if (job.kind === 'mpd') return { kind: 'mpd', ...parseMpd(job.text, job.url, job.nowMs) };
  if (!job.text.startsWith('#EXTM3U')) throw new FetchError('not a playlist', job.url);
  return parseHls(job.text, job.url);
}

/** A parse failure as it crosses between threads. */
export interface ParseFailure {
  message: string;
  url: string;
  status?: number;
  /** Set when the document was refused by a limit (ManifestRefused). */
  limit?: string;
}

export function failureOf(e: unknown, url: string): ParseFailure {
  const error = e as Error;
  if (e instanceof ManifestRefused) return { message: e.message, url: e.url, limit: e.limit };
  if (e instanceof FetchError)
    return { message: e.message, url: e.url, ...(e.status ? { status: e.status } : {}) };
  return { message: `cannot parse the document (${error?.message ?? String(e)})`, url };
}

export function errorOf(failure: ParseFailure): FetchError {
  return failure.limit
    ? new ManifestRefused(failure.message, failure.url, failure.limit)
    : new FetchError(failure.message, failure.url, failure.status);
}
