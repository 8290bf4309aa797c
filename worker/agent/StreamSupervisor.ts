/**
 * Runs one work unit (a stream, or one detector group of it) on this worker: starts the
 * pipeline, restarts ffmpeg with capped exponential backoff when it fails, measures lag against
 * the wall clock, and turns the alarm tracker's events into registry records and outbox entries,
 * each raised and cleared exactly once (the registry's conditional writes decide).
 */

import type { SecurityConfig } from '../../shared/config.js';
import type { DecodeProfile } from '../../shared/decodeProfile.js';
import type { Logger } from '../../shared/logger.js';
import type { MediaStore } from '../../shared/media/MediaStore.js';
import { redactDeep } from '../../shared/redact.js';
import type { Registry, UnitItem } from '../../shared/registry/Registry.js';
import type { StreamHealth, StreamRecord, UnitState } from '../../shared/streamSpec.js';
import { resolveThresholds } from '../../shared/thresholds.js';
import { AlarmChain } from '../alarms/AlarmChain.js';
import { isLiveKind, sourceKind } from '../converter/sourceKind.js';
import type { AudioChunk } from '../converter/types.js';
import { DOCUMENTS_BASE, type GuardProxy } from '../egress/GuardProxy.js';
import { Evidence } from '../pipeline/Evidence.js';
import { keepsLoudnessLog, LoudnessLog } from '../pipeline/LoudnessLog.js';
import { StreamPipeline } from '../pipeline/StreamPipeline.js';
import type { Outbox } from '../publishers/Outbox.js';
import { HealthWriter } from './HealthWriter.js';
import { OpenCancelledError, type OpenGate, type ReleaseOpen } from './OpenGate.js';
import { OpenWatch } from './OpenWatch.js';
import { ProcessCpu } from './ProcessCpu.js';
import { resumePoint } from './resumePoint.js';
import { MAX_BACKOFF_SECONDS, nextRetry } from './retryPolicy.js';
import type { SecretResolver } from './secrets.js';
import { isSourceRefusal, openSourceAccess, type SourceAccess } from './sourceAccess.js';

export interface SupervisorDeps {
  registry: Registry;
  outbox: Outbox;
  logger: Logger;
  security: SecurityConfig;
  workerId: string;
  /** The decode profile of streams that do not choose one (STREAMQC_DECODE_PROFILE). */
  decodeProfile?: DecodeProfile;
  /** The guard proxy: each http(s) unit gets its own route (address policy, request budget). */
  proxy: Pick<GuardProxy, 'open' | 'close' | 'problem' | 'unreachable' | 'watch' | 'serve'>;
  /** The worker's admission for opens: each run waits for a slot before it probes the source. */
  openGate?: Pick<OpenGate, 'acquire'>;
  /** One open (from the address check to the first media) longer than this is a stuck unit. */
  openDeadlineSeconds?: number;
  /** Resolves `{{secret:…}}` references in stream URLs (absent: such a stream cannot open). */
  secrets?: Pick<SecretResolver, 'resolve'>;
  /** Where thumbnails and alarm evidence are kept (absent: not kept). */
  media?: { store: MediaStore; thumbnailSeconds: number };
}

/** Default of SupervisorDeps.openDeadlineSeconds (STREAMQC_UNIT_OPEN_DEADLINE_SECONDS). */
const OPEN_DEADLINE_SECONDS = 60;

/** Falling this far behind the live edge restarts the converter at the edge. */
const MAX_LAG_SECONDS = 10;
const HEALTH_INTERVAL_MS = 5000;

export class StreamSupervisor {
  readonly log: Logger;
  private pipeline: StreamPipeline | null = null;
  private stopped = false;
  private done: Promise<void> | null = null;
  private readonly alarms: AlarmChain;
  private runStartedWall = 0;
  private runStartedMedia: number | null = null;
  private runState: UnitState = 'opening';
  lagSeconds = 0;
  frames = 0;
  /** Converter runs started after the first. */
  restarts = 0;
  /** Times the supervising loop itself failed and was started again. */
  crashes = 0;
  lastError: string | undefined;
  private readonly cpu = new ProcessCpu();
  private readonly health: HealthWriter;
  /** Aborted by stop(): a unit waiting for an open slot gives up its place. */
  private readonly abort = new AbortController();
  /** The open slot this run holds until its first media (or its end). */
  private releaseOpen: ReleaseOpen | null = null;
  /** Thumbnails and alarm evidence, across the unit's converter runs. */
  private readonly evidence: Evidence | null;
  /** The stream's loudness log, when it asked for one and this unit keeps it. */
  private readonly loudnessLog: LoudnessLog | null;
  /** The unit ran before (here, or on the worker it was taken from): its re-opens go first. */
  private wasRunning = false;
  /** The open's watchdog: which stage it is in, whether it is stuck (stream.unmonitored). */
  private readonly openWatch: OpenWatch;

  constructor(
    readonly unit: UnitItem,
    private readonly stream: StreamRecord,
    private readonly deps: SupervisorDeps,
  ) {
    this.log = deps.logger.child({ streamId: unit.streamId, group: unit.group });
    this.alarms = new AlarmChain(deps, this.log, () => this.stopped);
    this.health = new HealthWriter(deps.registry, unit.unitId, this.log);
    this.evidence = deps.media
      ? new Evidence({ streamId: unit.streamId, logger: this.log, ...deps.media })
      : null;
    this.loudnessLog =
      deps.media && stream.loudness && keepsLoudnessLog(stream, unit.group)
        ? new LoudnessLog({
            streamId: unit.streamId,
            standard: stream.loudness.standard,
            periodMinutes: stream.loudness.periodMinutes ?? 60,
            store: deps.media.store,
            logger: this.log,
          })
        : null;
    this.openWatch = new OpenWatch(
      stream,
      deps.openDeadlineSeconds ?? OPEN_DEADLINE_SECONDS,
      deps.workerId,
      this.log,
      (event) => this.alarms.push(event),
    );
  }

  /** Set while the current open has run past its deadline: where it is stuck, for how long. */
  get stuck(): { stage: string; seconds: number } | null {
    return this.openWatch.stuck;
  }

  /** The unit's state as a user should read it: a running converter whose media is overdue is `no-media`. */
  get state(): UnitState {
    const pipeline = this.pipeline;
    if (this.runState !== 'running' || !pipeline) return this.runState;
    return pipeline.mediaOverdue(Date.now()) ? 'no-media' : 'running';
  }

  /**
   * Starts supervising in the background. A run that throws (a registry call that failed, a bug)
   * is logged and started again with backoff: a unit is never left silently not running.
   */
  start(): void {
    this.done = (async () => {
      let backoff = 1;
      while (!this.stopped) {
        try {
          await this.run();
          return;
        } catch (err) {
          this.crashes++;
          this.pipeline?.stop();
          this.runState = 'backoff';
          this.lastError = `supervisor crashed: ${(err as Error).message}`;
          this.log.error({ err, retryInSeconds: backoff }, 'supervisor crashed; starting it again');
          await this.sleep(backoff);
          backoff = Math.min(MAX_BACKOFF_SECONDS, backoff * 2);
        }
      }
    })();
  }

  private async sleep(seconds: number): Promise<void> {
    const until = Date.now() + seconds * 1000;
    while (!this.stopped && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  }

  /** Stops ffmpeg and the loop; open alarms stay open in the registry for whoever runs it next. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.pipeline?.stop();
    await this.done;
    // A ladder's held raise (its scope being judged) ends within a probe once stopped; it is
    // recorded before the unit lets go, not after the next worker has taken the stream.
    await this.pipeline?.settled();
    await this.alarms.settled();
    await this.loudnessLog?.flush();
  }

  /** CPU seconds used by this unit's ffmpeg processes so far (sampled from /proc). */
  cpuSeconds(): number {
    return this.cpu.seconds(this.pipeline?.converterPid);
  }

  private async run(): Promise<void> {
    const { stream, unit, deps } = this;
    const kind = sourceKind(stream.url);
    if (!kind) {
      this.lastError = 'unsupported protocol';
      return;
    }
    const live = isLiveKind(kind);
    // This stream's own view of the source policy: whether its https origins' certificates count.
    const security = { ...deps.security, verifyTls: stream.verifyTls !== false };
    const pipeline = new StreamPipeline({
      streamId: stream.id,
      source: stream.url,
      kind,
      live,
      realtime: false,
      thresholds: resolveThresholds(stream.thresholds),
      detectors: unit.detectors,
      expect: stream.expect,
      ...(stream.slate ? { slate: stream.slate } : {}),
      ...(this.evidence ? { evidence: this.evidence } : {}),
      ...(this.loudnessLog ? { onSound: (chunk: AudioChunk) => this.loudnessLog?.sound(chunk) } : {}),
      logger: this.log,
      onEvent: (event) => {
        // The owner goes with every event: SNS subscribers filter on it (message attribute).
        // A rendition URI or an error quoting the source may carry its credentials: masked.
        const owned = redactDeep({ ...event, owner: stream.owner });
        this.alarms.push(owned);
      },
      onProgress: (t) => {
        this.frames++;
        if (this.runState !== 'running') this.openWatch.monitoring(t);
        this.runState = 'running';
        this.wasRunning = true;
        this.finishOpen();
        // Lag counts from the first picture or sample: opening the source (probe, first
        // keyframe) is not falling behind the live edge.
        if (this.runStartedMedia === null) {
          this.runStartedMedia = t;
          this.runStartedWall = Date.now();
        }
        if (live)
          this.lagSeconds = Math.max(
            0,
            (Date.now() - this.runStartedWall) / 1000 - (t - this.runStartedMedia),
          );
      },
      // Segmented sources: the pipeline derives the stall time from the loss rule (segment wait).
      stallSeconds: 10,
      decodeProfile: stream.decode ?? deps.decodeProfile,
      upstreamError: () => deps.proxy.unreachable(unit.unitId),
      delivery: {
        security,
        decode: stream.rendition ?? 'top',
        // ffmpeg's downloads (http, and https through the proxy's own TLS) are seen by the proxy.
        proxyObserves: true,
        // http sources are read through the guard proxy, which serves the pipeline's documents.
        documentsBase: DOCUMENTS_BASE,
      },
    });
    this.pipeline = pipeline;
    const alarms = await deps.registry.alarms.openFor(stream.id);
    this.openWatch.unmonitored = alarms.find((a) => a.event.type === 'stream.unmonitored')?.event ?? null;
    const open = alarms.filter((a) => unit.detectors.includes(a.event.type));
    const openEvents = open.map((a) => a.event);
    if (live) {
      // A live stream's timeline goes on where its last monitor left it (up to 5 minutes ago).
      const health = (await deps.registry.health.getMany([unit.unitId])).get(unit.unitId);
      const from = resumePoint(health, openEvents);
      if (from) {
        this.wasRunning = true;
        pipeline.resumeClock(from.mediaTime, from.atMs);
        this.log.info(
          { mediaTime: from.mediaTime, at: new Date(from.atMs).toISOString() },
          'continuing the media timeline of the last monitor',
        );
      }
    }
    pipeline.restoreAlarms(openEvents);
    if (open.length) this.log.info({ restored: open.map((a) => a.type) }, 'restored open alarms');

    const health = setInterval(() => {
      void this.reportHealth(pipeline);
      this.loudnessLog?.tick(Date.now());
    }, HEALTH_INTERVAL_MS);
    const lagWatch = setInterval(() => {
      this.watchOpen(pipeline);
      if (this.lagSeconds > MAX_LAG_SECONDS) {
        this.log.warn(
          { lagSeconds: this.lagSeconds },
          'behind the live edge; restarting the converter at the edge',
        );
        this.lagSeconds = 0;
        pipeline.restartConverter();
      }
    }, 1000);
    let backoff = 1;
    let runs = 0;
    try {
      while (!this.stopped) {
        let access: SourceAccess;
        this.openWatch.begin('checking the source address');
        try {
          access = await openSourceAccess({
            stream,
            unitId: unit.unitId,
            kind,
            security,
            secrets: deps.secrets,
            proxy: deps.proxy,
            downloads: (exchange) => pipeline.onExchange(exchange),
            documents: (path) => pipeline.document(path),
          });
        } catch (e) {
          if (!isSourceRefusal(e)) throw e;
          this.lastError = e.message;
          this.runState = 'backoff';
          pipeline.sourceUnavailable(e.message);
          await this.pause(MAX_BACKOFF_SECONDS, pipeline);
          continue;
        }
        pipeline.setSource(access.source, access.inputArgs);
        this.runState = 'opening';
        this.openWatch.stage = 'waiting for an open slot';
        if (!(await this.admit())) break;
        this.openWatch.stage = 'opening the source (playlist, probe, decoder start, first media)';
        if (runs === 0) pipeline.firstOpenStarting();
        this.runStartedWall = Date.now();
        this.runStartedMedia = null;
        if (runs++ > 0) this.restarts++;
        let result: Awaited<ReturnType<StreamPipeline['runOnce']>>;
        try {
          result = await pipeline.runOnce();
        } finally {
          this.finishOpen();
        }
        if (this.stopped) break;
        if (!live && !result.error) {
          pipeline.finish();
          this.runState = 'completed';
          this.log.info('file source analysed to its end');
          break;
        }
        this.lastError =
          deps.proxy.problem(unit.unitId) ??
          result.error?.message ??
          result.exit?.lastError ??
          'ffmpeg ended';
        const retry = nextRetry(
          {
            ended: result.ended,
            ranForSeconds: (Date.now() - this.runStartedWall) / 1000,
            delivered: result.frames + result.audioChunks,
          },
          backoff,
        );
        backoff = retry.backoff;
        const wait = retry.waitSeconds;
        this.runState = 'backoff';
        this.log.warn(
          { err: this.lastError, retryInSeconds: wait, restarts: this.restarts },
          'source ended or failed; re-opening',
        );
        await this.pause(wait, pipeline);
      }
    } finally {
      clearInterval(health);
      clearInterval(lagWatch);
      await deps.proxy.close(unit.unitId);
      await this.reportHealth(pipeline);
    }
  }

  /** Past the open deadline: the unit is stuck (raised once); a hung decoder start is restarted. */
  private watchOpen(pipeline: StreamPipeline): void {
    if (this.runState !== 'opening') return;
    const reason = this.openWatch.check(pipeline.currentMediaTime);
    if (!reason) return;
    this.lastError = reason;
    if (this.openWatch.decoderStuck) pipeline.restartConverter();
  }

  /**
   * Waits for one of the worker's open slots (a burst of units opens a few at a time); false when
   * the unit was stopped meanwhile. The slot is held until the run's first media or its end.
   */
  private async admit(): Promise<boolean> {
    const gate = this.deps.openGate;
    if (!gate) return !this.stopped;
    try {
      this.releaseOpen = await gate.acquire(this.wasRunning, this.abort.signal, this.stream.owner);
    } catch (e) {
      if (e instanceof OpenCancelledError) return false;
      throw e;
    }
    if (this.stopped) {
      this.finishOpen();
      return false;
    }
    return true;
  }

  private finishOpen(): void {
    this.releaseOpen?.();
    this.releaseOpen = null;
  }

  /** Waits, letting wall-clock rules (stream.loss) keep running; returns early when stopped. */
  private async pause(seconds: number, pipeline: StreamPipeline): Promise<void> {
    const until = Date.now() + seconds * 1000;
    while (!this.stopped && Date.now() < until) {
      pipeline.tick();
      await new Promise((r) => setTimeout(r, Math.min(500, until - Date.now())));
    }
  }

  /** Writes the unit's health (HealthWriter: when it changed, and once a minute). */
  private async reportHealth(pipeline: StreamPipeline): Promise<void> {
    this.cpuSeconds();
    // Masked here, not only in the API: a secret value may stand where no URL rule finds it.
    const health: StreamHealth = redactDeep({
      workerId: this.deps.workerId,
      state: this.state,
      mediaTime: Math.round(pipeline.currentMediaTime * 1000) / 1000,
      lagSeconds: Math.round(this.lagSeconds * 100) / 100,
      updatedAt: new Date().toISOString(),
      restarts: this.restarts,
      ...(pipeline.lastMediaAt !== null ? { lastMediaAt: new Date(pipeline.lastMediaAt).toISOString() } : {}),
      ...(this.lastError ? { lastError: this.lastError } : {}),
      ...(pipeline.decoderInput ? { decoderInput: pipeline.decoderInput } : {}),
      ...pipeline.decoding,
      ...(pipeline.captionServices.length ? { captions: pipeline.captionServices } : {}),
    });
    await this.health.write(health);
  }
}
