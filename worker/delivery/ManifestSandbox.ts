/**
 * Parsing of untrusted documents (playlists, MPDs) outside the worker process: a small pool of
 * child processes, each with a capped heap and a deadline per document. A document that would
 * expand past the cap or parse for too long ends its process (replaced for the next one), and is
 * refused with the limit it hit; the worker, its other streams and its event loop are not
 * touched. Big legitimate playlists do not stall the event loop either.
 *
 * Processes, not worker_threads: a thread's heap limit is best effort — one array grown past it
 * (mpd-parser expanding a timeline) aborts the whole process (nodejs/node#47224), which is how one
 * hostile MPD took down worker after worker.
 *
 * A document that ended a process is not parsed again for a while (its URL cools down): a live
 * source serving a bomb at every reload costs one process per cool-down, not one per reload.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type FetchError, ManifestRefused } from './guardedGet.js';
import { errorOf, type ParsedDocument, type ParseFailure, type ParseJob } from './parseDocument.js';

/** What one document may cost to parse (docs/security.md lists them). */
export interface ParseLimits {
  heapMb: number;
  deadlineMs: number;
  coolDownMs: number;
  processes: number;
}

export const PARSE_LIMITS: Readonly<ParseLimits> = {
  /** Heap of a parsing process, MB: a 4 MiB playlist of 150,000 segments needs about 90. */
  heapMb: 160,
  /** Wall time one document may take once its process has it. */
  deadlineMs: 10_000,
  /** How long a document that ended its process is refused without being parsed again. */
  coolDownMs: 60_000,
  processes: 2,
};

interface Job extends ParseJob {
  id: number;
  resolve: (document: ParsedDocument) => void;
  reject: (error: FetchError) => void;
}

/** The parsing process: compiled, the .js beside this file; from the TypeScript sources, through tsx. */
function parser(heapMb: number): ChildProcess {
  const ts = import.meta.url.endsWith('.ts');
  const file = fileURLToPath(new URL(`./manifestChild.${ts ? 'ts' : 'js'}`, import.meta.url));
  return fork(file, [], {
    execArgv: [`--max-old-space-size=${heapMb}`, '--stack-size=4000', ...(ts ? ['--import', 'tsx'] : [])],
    serialization: 'advanced',
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
}

class ParseProcess {
  readonly child: ChildProcess;
  ready = false;
  job: Job | null = null;
  deadline: NodeJS.Timeout | null = null;
  /** Why the process ended while parsing (the heap cap, the deadline). */
  fate: string | null = null;
  readonly exited: Promise<void>;

  constructor(
    private readonly limits: Readonly<ParseLimits>,
    onReady: (t: ParseProcess) => void,
    onAnswer: (t: ParseProcess, message: AnswerMessage) => void,
    onExit: (t: ParseProcess) => void,
  ) {
    this.child = parser(limits.heapMb);
    // What V8 says when it gives up (the heap), kept short; nothing else is read.
    let stderr = '';
    this.child.stderr?.on('data', (chunk: Buffer) => {
      if (stderr.length < 4096) stderr += chunk.toString('utf8');
    });
    this.child.on('message', (message: AnswerMessage | { ready: true }) => {
      if ('ready' in message) {
        this.ready = true;
        onReady(this);
      } else onAnswer(this, message);
    });
    this.child.on('error', () => {});
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        if (!this.fate && this.job)
          this.fate = /heap out of memory|Allocation failed/.test(stderr)
            ? `parsing needed more than ${limits.heapMb} MB`
            : `the parsing process ended (${signal ?? `exit ${code}`})`;
        onExit(this);
        resolve();
      }),
    );
    this.child.unref();
    (this.child.channel as { unref?: () => void } | undefined)?.unref?.();
  }

  run(job: Job): void {
    this.job = job;
    this.deadline = setTimeout(() => {
      this.fate = `parsing took longer than ${this.limits.deadlineMs / 1000} s`;
      this.child.kill('SIGKILL');
    }, this.limits.deadlineMs);
    this.deadline.unref();
    const { id, kind, text, url, nowMs } = job;
    this.child.send({ id, kind, text, url, nowMs });
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
  private readonly pool = new Set<ParseProcess>();
  private readonly queue: Job[] = [];
  private readonly coolingUntil = new Map<string, number>();
  private nextId = 1;
  private closed = false;
  /** Processes ended by a document (heap cap or deadline). */
  killed = 0;
  /** The same, over every sandbox of this process (metrics). */
  static killedTotal = 0;

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
    for (const t of this.pool) t.child.kill('SIGKILL');
    await Promise.all([...this.pool].map((t) => t.exited));
    if (ManifestSandbox.instance === this) ManifestSandbox.instance = null;
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const idle = [...this.pool].find((t) => t.ready && !t.job && !t.fate);
      if (idle) {
        idle.run(this.queue.shift() as Job);
        continue;
      }
      const starting = [...this.pool].some((t) => !t.ready);
      if (starting || this.pool.size >= this.limits.processes) return;
      this.pool.add(
        new ParseProcess(
          this.limits,
          () => this.pump(),
          (t, message) => this.answer(t, message),
          (t) => this.exited(t),
        ),
      );
    }
  }

  private answer(t: ParseProcess, message: AnswerMessage): void {
    const job = t.done();
    if (!job || job.id !== message.id) return;
    if (message.ok) job.resolve(message.document);
    else job.reject(errorOf(message.failure));
    this.pump();
  }

  private exited(t: ParseProcess): void {
    this.pool.delete(t);
    const job = t.done();
    if (job) {
      this.killed++;
      ManifestSandbox.killedTotal++;
      this.coolingUntil.set(job.url, Date.now() + this.limits.coolDownMs);
      const fate = t.fate ?? 'the parsing process stopped';
      job.reject(new ManifestRefused(`manifest refused: ${fate}`, job.url, fate));
    }
    for (const [url, until] of this.coolingUntil) if (until <= Date.now()) this.coolingUntil.delete(url);
    if (!t.ready) {
      // It never started (a broken install): fail what waits rather than start processes forever.
      const why = `the parsing process could not start${t.fate ? ` (${t.fate})` : ''}`;
      for (const waiting of this.queue.splice(0)) waiting.reject(new ManifestRefused(why, waiting.url, why));
      return;
    }
    if (!this.closed) this.pump();
  }
}
