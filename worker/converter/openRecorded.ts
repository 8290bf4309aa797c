/**
 * Opens a recorded file without ffprobe: its converter is started at once on a guess of what the
 * file holds (a picture and sound: what most recordings are; the analysis chain is the same at
 * every picture width), and the file's description ffmpeg prints when it opens it (inputHeader.ts)
 * says what it really holds before a single picture is decoded. When the guess was right, that
 * same process goes on to be the converter; when it was not (no sound, no picture) it is killed
 * and the pipeline starts the converter the tracks call for. ffprobe opened every file a second
 * time: ~0.05 CPU s of FFmpeg's start-up each, a few per cent of analysing a minute of 720p.
 */
import { isDeepStrictEqual } from 'node:util';
import { tracksFromInputHeader } from './inputHeader.js';
import { StartedFfmpeg } from './StartedFfmpeg.js';
import type { TrackInfo } from './types.js';

/** The guess: what ffmpegArgs needs of the tracks (a video, and audio). */
const GUESS: TrackInfo = {
  video: { codec: 'unknown', width: 1280, height: 720, frameRate: 25 },
  audio: { codec: 'unknown', sampleRate: 48000, channels: 2 },
  duration: null,
  startTime: null,
  formatName: 'unknown',
};

/** Longest wait for ffmpeg to describe the file (ffprobe's own limit). */
const OPEN_TIMEOUT_MS = 20_000;

const MAPPING_RE = /^(?:\[info\] )?Stream mapping:/;

export interface RecordedOpen {
  tracks: TrackInfo;
  /** The converter already running with the arguments `tracks` call for; null: start one. */
  started: StartedFfmpeg | null;
}

/**
 * Starts the converter `argsFor(guess)` and reads what the file holds from it. Null when its
 * description was not read with certainty (or ffmpeg failed to open the file): ask ffprobe, which
 * also words the error.
 */
export async function openRecorded(
  argsFor: (tracks: TrackInfo) => string[],
  signal?: AbortSignal,
): Promise<RecordedOpen | null> {
  const args = argsFor(GUESS);
  const started = new StartedFfmpeg(args);
  const mapped = await described(started, signal);
  const tracks = tracksFromInputHeader(started.lines);
  if (mapped && tracks && isDeepStrictEqual(argsFor(tracks), args)) return { tracks, started };
  started.discard();
  return tracks ? { tracks, started: null } : null;
}

/**
 * Resolves once ffmpeg has described the file and set up its outputs ("Stream mapping:", true), or
 * has exited, timed out or been aborted first (false).
 */
function described(started: StartedFfmpeg, signal?: AbortSignal): Promise<boolean> {
  const { child, stderr } = started;
  return new Promise((resolve) => {
    let settled = false;
    const done = (mapped: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', abort);
      started.watch(null);
      resolve(mapped);
    };
    const abort = () => done(false);
    const timer = setTimeout(abort, OPEN_TIMEOUT_MS);
    started.watch((line) => {
      if (MAPPING_RE.test(line)) done(true);
    });
    // Gone before describing its outputs: its last lines (read by the time stderr closes) say why.
    if (!stderr || started.spawnError) done(false);
    else stderr.once('close', () => done(false));
    child.once('error', abort);
    if (signal?.aborted) abort();
    else signal?.addEventListener('abort', abort, { once: true });
  });
}
