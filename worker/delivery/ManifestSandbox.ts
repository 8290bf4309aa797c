/**
 * Parsing of untrusted documents (playlists, MPDs) away from the worker's main thread: a small
 * pool of worker_threads, each with a capped heap and a deadline per document. A document that
 * would expand past the cap or parse for too long ends its thread (replaced for the next one),
 * and is refused with the limit it hit; the worker, its other streams and its event loop are not
 * touched. Big legitimate playlists do not stall the event loop either.
 *
 * A document that ended a thread is not parsed again for a while (its URL cools down): a live
 * source serving a bomb at every reload costs one thread per cool-down, not one per reload.
 */
import type { Worker } from 'node:worker_threads';
import { startThread } from '../../shared/startThread.js';
import { type FetchError, ManifestRefused } from './guardedGet.js';
import { errorOf, type ParsedDocument, type ParseFailure, type ParseJob } from './parseDocument.js';

/** What one document may cost to parse (README "Security" lists them). */
export interface ParseLimits {
  heapMb: number;
  deadlineMs: number;
  coolDownMs: number;
  threads: number;
}

export const PARSE_LIMITS: Readonly<ParseLimits> = {
  /** Heap of a parsing thread, MB: a 4 MiB playlist of 150,000 segments needs about 90. */
  heapMb: 160,
  /** Wall time one document may take once its thread has it. */
  deadlineMs: 10_000,
  /** How long a document that ended its thread is refused without being parsed again. */
  coolDownMs: 60_000,
  threads: 2,
};

interface Job extends ParseJob {
  id: number;
  resolve: (document: ParsedDocument) => void;
  reject: (error: FetchError) => void;
}

class ParseThread {
  readonly thread: Worker;
  ready = false;
  job: Job | null = null;
  deadline: NodeJS.Timeout | null = null;
  /** Why the thread ended while parsing (the heap cap, the deadline). */
  fate: string | null = null;

  constructor(
    private readonly limits: Readonly<ParseLimits>,
    onReady: (t: ParseThread) => void,
    onAnswer: (t: ParseThread, message: AnswerMessage) => void,
    onExit: (t: ParseThread) => void,
  ) {
    this.thread = startThread(import.meta.url, 'manifestThread', {
      resourceLimits: {
        maxOldGenerationSizeMb: limits.heapMb,
        maxYoungGenerationSizeMb: 16,
        stackSizeMb: 4,
      },
    });
    this.thread.unref();
    this.thread.on('message', (message: AnswerMessage | { ready: true }) => {
      if ('ready' in message) {
        this.ready = true;
        onReady(this);
      } else onAnswer(this, message);
    });
    this.thread.on('error', (e: Error & { code?: string }) => {
      this.fate ??=
        e.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? `parsing needed more than ${limits.heapMb} MB`
          : `the parsing thread failed (${e.message})`;
    });
    this.thread.on('exit', () => onExit(this));
  }

  run(job: Job): void {
    this.job = job;
    this.deadline = setTimeout(() => {
      this.fate = `parsing took longer than ${this.limits.deadlineMs / 1000} s`;
      void this.thread.terminate();
    }, this.limits.deadlineMs);
    this.deadline.unref();
    const { id, kind, text, url, nowMs } = job;
    this.thread.postMessage({ id, kind, text, url, nowMs });
  }

  done(): Job | null {
    const job = this.job;
    this.job = null;
    if (this.deadline) clearTimeout(this.deadline);
    this.deadline = null;
    return job;
  }
}

type AnswerMessage =
  | { id: number; ok: true; document: ParsedDocument }
  | { id: number; ok: false; failure: ParseFailure };

export class ManifestSandbox {
  private static instance: ManifestSandbox | null = null;
  private readonly threads = new Set<ParseThread>();
  private readonly queue: Job[] = [];
  private readonly coolingUntil = new Map<string, number>();
  private nextId = 1;
  private closed = false;
  /** Threads ended by a document (heap cap or deadline), for metrics. */
  killed = 0;

  constructor(private readonly limits: Readonly<ParseLimits> = PARSE_LIMITS) {}

  /** The worker process's sandbox. */
  static shared(): ManifestSandbox {
    ManifestSandbox.instance ??= new ManifestSandbox();
    return ManifestSandbox.instance;
  }

  parse(job: Omit<ParseJob, 'nowMs'> & { nowMs?: number }): Promise<ParsedDocument> {
    const until = this.coolingUntil.get(job.url) ?? 0;
    if (until > Date.now())
      return Promise.reject(
        new ManifestRefused(
          `manifest refused: it ended its parser ${Math.round((this.limits.coolDownMs - (until - Date.now())) / 1000)} s ago; parsed again in ${Math.ceil((until - Date.now()) / 1000)} s`,
          job.url,
          'parser cool-down',
        ),
      );
    if (this.closed) return Promise.reject(new ManifestRefused('the parser is closed', job.url, 'closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ ...job, nowMs: job.nowMs ?? Date.now(), id: this.nextId++, resolve, reject });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0))
      job.reject(new ManifestRefused('the parser is closed', job.url, 'closed'));
    await Promise.all([...this.threads].map((t) => t.thread.terminate()));
    if (ManifestSandbox.instance === this) ManifestSandbox.instance = null;
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const idle = [...this.threads].find((t) => t.ready && !t.job && !t.fate);
      if (idle) {
        idle.run(this.queue.shift() as Job);
        continue;
      }
      const starting = [...this.threads].some((t) => !t.ready);
      if (starting || this.threads.size >= this.limits.threads) return;
      this.threads.add(
        new ParseThread(
          this.limits,
          () => this.pump(),
          (t, message) => this.answer(t, message),
          (t) => this.exited(t),
        ),
      );
    }
  }

  private answer(t: ParseThread, message: AnswerMessage): void {
    const job = t.done();
    if (!job || job.id !== message.id) return;
    if (message.ok) job.resolve(message.document);
    else job.reject(errorOf(message.failure));
    this.pump();
  }

  private exited(t: ParseThread): void {
    this.threads.delete(t);
    const job = t.done();
    if (job) {
      this.killed++;
      this.coolingUntil.set(job.url, Date.now() + this.limits.coolDownMs);
      const fate = t.fate ?? 'the parsing thread stopped';
      job.reject(new ManifestRefused(`manifest refused: ${fate}`, job.url, fate));
    }
    for (const [url, until] of this.coolingUntil) if (until <= Date.now()) this.coolingUntil.delete(url);
    if (!t.ready) {
      // It never started (a broken install): fail what waits rather than start threads forever.
      const why = `the parsing thread could not start${t.fate ? ` (${t.fate})` : ''}`;
      for (const waiting of this.queue.splice(0)) waiting.reject(new ManifestRefused(why, waiting.url, why));
      return;
    }
    if (!this.closed) this.pump();
  }
}
