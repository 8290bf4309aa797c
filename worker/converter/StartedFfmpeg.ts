/**
 * One converter ffmpeg process, its pipes and stderr lines, kept until a Converter takes them.
 * Usually the Converter starts it and takes it at once; a recorded file's converter is started
 * before its tracks are known (openRecorded), and its lines wait here while the pipeline reads
 * the input's description from them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { lowerPriority } from './decoderPriority.js';
import { LineSplitter } from './LineSplitter.js';
import { converterEnv } from './lineBuffer.js';
import { readPipe } from './pipeReader.js';

/** The thumbnails' output (ffmpegArgs): a sixth descriptor when the arguments name it. */
const THUMBNAIL_PIPE = 'pipe:5';

export class StartedFfmpeg {
  readonly child: ChildProcess;
  /** ffmpeg's stderr, to wait on for its end; null when it could not be started. */
  readonly stderr: Readable | null;
  /** The picture and sound pipes (pipe:3, pipe:4), read only once taken (take()). */
  readonly videoPipe: Readable;
  readonly audioPipe: Readable;
  /** Set once a Converter has taken it. */
  taken = false;
  private onVideo: ((bytes: Uint8Array) => void) | null = null;
  private onAudio: ((bytes: Uint8Array) => void) | null = null;
  /** Set when ffmpeg could not be run at all (not on PATH). */
  spawnError: Error | null = null;
  /** Lines printed before a Converter took the process (take()). */
  private readonly waiting: string[] = [];
  private sink: ((line: string) => void) | null = null;
  /** Told of each line that waits (openRecorded looks for the end of ffmpeg's description). */
  private watcher: ((line: string) => void) | null = null;
  private readonly splitter = new LineSplitter((line) => {
    if (this.sink) this.sink(line);
    else {
      this.waiting.push(line);
      this.watcher?.(line);
    }
  });

  constructor(readonly args: readonly string[]) {
    const thumbnails = args.includes(THUMBNAIL_PIPE);
    this.child = spawn('ffmpeg', args, {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe', ...(thumbnails ? ['pipe' as const] : [])],
      // Its log a whole line per write (lineBuffer.ts), when the library was built.
      env: converterEnv(),
    });
    lowerPriority(this.child);
    this.child.on('error', (e) => {
      this.spawnError = e;
    });
    this.stderr = this.child.stderr
      ? readPipe(this.child.stderr, (bytes) => this.splitter.push(bytes), 64 * 1024)
      : null;
    // The pipes' handles move to readers now, before anything can arrive (readPipe), and wait
    // paused: ffmpeg blocks on them until a Converter takes them, nothing read before is lost.
    const stdio = this.child.stdio as unknown as Readable[];
    this.videoPipe = readPipe(stdio[3], (bytes) => this.onVideo?.(bytes)).pause();
    this.audioPipe = readPipe(stdio[4], (bytes) => this.onAudio?.(bytes)).pause();
  }

  /** The lines printed so far, until a Converter takes the process. */
  get lines(): readonly string[] {
    return this.waiting;
  }

  /** Calls `watcher` with each line that waits from now on (null: no longer). */
  watch(watcher: ((line: string) => void) | null): void {
    this.watcher = watcher;
  }

  /**
   * A Converter takes the process: every stderr line so far, then each new one, to `line`; the
   * pipes' bytes (each valid only during the call) to `video` and `audio` from now on.
   */
  take(to: {
    line(line: string): void;
    video(bytes: Uint8Array): void;
    audio(bytes: Uint8Array): void;
  }): void {
    this.taken = true;
    this.watcher = null;
    this.sink = to.line;
    for (const line of this.waiting.splice(0)) to.line(line);
    this.onVideo = to.video;
    this.onAudio = to.audio;
    this.videoPipe.resume();
    this.audioPipe.resume();
  }

  /** stderr ended: its last line, if it had no newline. */
  end(): void {
    this.splitter.end();
  }

  /** Kills it and lets go of its pipes (a process no Converter will read). */
  discard(): void {
    this.child.kill('SIGKILL');
    this.videoPipe.destroy();
    this.audioPipe.destroy();
    (this.child.stdio as unknown as (Readable | null)[])[5]?.destroy();
  }
}
