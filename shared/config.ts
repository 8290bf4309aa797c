/**
 * Configuration, read from the environment in one place and typed. A bad value fails with the
 * variable's name, never later with a confusing error.
 */

import { availableParallelism } from 'node:os';
import { DECODE_PROFILES, type DecodeProfile } from './decodeProfile.js';
import type { StrikePolicy } from './registry/units.js';

/** A configuration variable has a value we cannot use. */
export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`Environment variable ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}, not "${raw}"`);
  }
  return value;
}

function num(env: Env, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min)
    throw new ConfigError(name, `must be a number ≥ ${min}, not "${raw}"`);
  return value;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!allowed.includes(raw as T))
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}, not "${raw}"`);
  return raw as T;
}

function required(env: Env, name: string): string {
  const value = env[name];
  if (!value) throw new ConfigError(name, 'is required');
  return value;
}

/** Where DynamoDB lives and what the tables are called. */
export interface RegistryConfig {
  /** Endpoint override (the embedded store locally); undefined on AWS. */
  endpoint?: string;
  region: string;
  tablePrefix: string;
}

export interface SecurityConfig {
  /** Local mode: loopback sources allowed, API keys instead of IAM. */
  localMode: boolean;
  /** Local file paths allowed as sources (local mode only). */
  allowFiles: boolean;
  /** CIDRs exempt from the private-address refusal. */
  allowedNetworks: string[];
  /**
   * udp:// and rtp:// sources (pushed to the worker's own address) accepted; unset: in local
   * mode only. On AWS a task's address changes with every move, so nothing can push to it.
   */
  allowPushSources?: boolean;
  /**
   * Certificates of https sources are verified (the default). A stream may opt out
   * (`verifyTls: false`); the worker gives each stream's checks its own copy of this config.
   */
  verifyTls?: boolean;
  /**
   * Extra certificate authorities (PEM) trusted for https sources beside the system's. On a
   * deployment, `NODE_EXTRA_CA_CERTS` does the same for the whole process.
   */
  tlsCa?: string[];
}

export interface WorkerConfig {
  workerId: string;
  /** A worker that has not renewed its fleet lease for this long is taken over. */
  leaseSeconds: number;
  heartbeatSeconds: number;
  /** Streams (units of work) one worker takes before it stops claiming. */
  streamBudget: number;
  /** Default decode profile for streams that do not choose one (decodeProfile.ts). */
  decodeProfile: DecodeProfile;
  /** Seconds a worker allows itself to drain after SIGTERM before it exits anyway (under ECS's stop timeout). */
  drainSeconds: number;
  /** Most waiting units one worker claims per tick (spreads a burst over the fleet). */
  maxClaimsPerTick: number;
  /** Admission control (worker/agent/OpenGate.ts, Headroom.ts). */
  admission: AdmissionConfig;
  /** Re-publish open alarms this often, seconds (0 = never). */
  resendSeconds: number;
  /** Worker deaths while running a unit that quarantine it, and the window they add up in. */
  strikes: StrikePolicy;
  /** A unit opening (or waiting to open) longer than this raises stream.unmonitored and is restarted. */
  openDeadlineSeconds: number;
  /** Detector groups a stream is split into (comma list of group=types); empty = one group. */
  detectorGroups: string;
  metricsPort: number;
  ndjsonPath?: string;
  snsTopicArn?: string;
  snsEndpoint?: string;
  webhookUrl?: string;
  webhookSecret?: string;
  console: boolean;
  /** Seconds between a stream's stored thumbnails (pictures are kept only with a media store). */
  thumbnailSeconds: number;
}

/** How a worker takes on work: opens at a bounded pace, claims only what it measures room for. */
export interface AdmissionConfig {
  /** Units opening (probe, decoder start, first frames) at once, at most. */
  openConcurrency: number;
  /** Least time between two opens starting, ms. */
  openIntervalMs: number;
  /** Cores the worker may use. */
  cpuCores: number;
  /** Claim while projected CPU use stays at or under this share of the cores. */
  claimTarget: number;
  /** Shed units when measured CPU use stays above this share of the cores. */
  shedAbove: number;
  /** Shed units when the event loop's p99 delay stays above this, seconds. */
  loopDelayShedSeconds: number;
  /** CPU one stream is assumed to cost before any is measured, cores. */
  coldStreamCores: number;
}

function admissionConfig(env: Env): AdmissionConfig {
  const cores = num(env, 'STREAMQC_CPU_CORES', availableParallelism(), 0.25);
  const claimTarget = num(env, 'STREAMQC_CLAIM_TARGET', 0.8, 0.05);
  const shedAbove = num(env, 'STREAMQC_SHED_ABOVE', 0.98, 0.05);
  if (shedAbove < claimTarget)
    throw new ConfigError('STREAMQC_SHED_ABOVE', `must be at least STREAMQC_CLAIM_TARGET (${claimTarget})`);
  return {
    openConcurrency: int(env, 'STREAMQC_OPEN_CONCURRENCY', Math.max(2, Math.round(4 * cores)), 1, 1000),
    openIntervalMs: int(env, 'STREAMQC_OPEN_INTERVAL_MS', 100, 0, 60_000),
    cpuCores: cores,
    claimTarget,
    shedAbove,
    loopDelayShedSeconds: num(env, 'STREAMQC_LOOP_DELAY_SHED_SECONDS', 0.3, 0.01),
    coldStreamCores: num(env, 'STREAMQC_COLD_STREAM_CORES', 0.06, 0.001),
  };
}

/** Niceness of the worker's decoders, 0–19 (STREAMQC_DECODER_NICE; worker/converter/decoderPriority.ts). */
export function decoderNice(env: Env = process.env): number {
  return int(env, 'STREAMQC_DECODER_NICE', 10, 0, 19);
}

export function registryConfig(env: Env = process.env): RegistryConfig {
  return {
    endpoint: env.STREAMQC_DYNAMODB_ENDPOINT || undefined,
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    tablePrefix: env.STREAMQC_TABLE_PREFIX ?? 'streamqc',
  };
}

export function securityConfig(env: Env = process.env): SecurityConfig {
  const localMode = env.STREAMQC_LOCAL === '1';
  const allowFiles = env.STREAMQC_ALLOW_FILES === '1';
  if (allowFiles && !localMode)
    throw new ConfigError('STREAMQC_ALLOW_FILES', 'is only allowed in local mode');
  const allowedNetworks = (env.STREAMQC_ALLOWED_NETWORKS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const cidr of allowedNetworks) {
    if (!/^[0-9a-fA-F:.]+\/\d{1,3}$/.test(cidr))
      throw new ConfigError('STREAMQC_ALLOWED_NETWORKS', `has a bad CIDR "${cidr}"`);
  }
  const allowPushSources = env.STREAMQC_ALLOW_PUSH_SOURCES
    ? env.STREAMQC_ALLOW_PUSH_SOURCES === '1'
    : localMode;
  return { localMode, allowFiles, allowedNetworks, allowPushSources };
}

export function workerConfig(env: Env = process.env): WorkerConfig {
  return {
    workerId: env.STREAMQC_WORKER_ID || `worker-${process.pid}-${Date.now().toString(36)}`,
    leaseSeconds: num(env, 'STREAMQC_LEASE_SECONDS', 10, 2),
    heartbeatSeconds: num(env, 'STREAMQC_HEARTBEAT_SECONDS', 2, 0.2),
    streamBudget: int(env, 'STREAMQC_STREAM_BUDGET', 8, 1, 10_000),
    maxClaimsPerTick: int(env, 'STREAMQC_MAX_CLAIMS_PER_TICK', 8, 1, 1000),
    admission: admissionConfig(env),
    drainSeconds: num(env, 'STREAMQC_DRAIN_SECONDS', 25, 1),
    decodeProfile: oneOf(env, 'STREAMQC_DECODE_PROFILE', DECODE_PROFILES, 'reference'),
    resendSeconds: num(env, 'STREAMQC_RESEND_SECONDS', 300, 0),
    strikes: {
      limit: int(env, 'STREAMQC_STRIKE_LIMIT', 3, 1, 100),
      windowMs: num(env, 'STREAMQC_STRIKE_WINDOW_MINUTES', 30, 1) * 60_000,
    },
    openDeadlineSeconds: num(env, 'STREAMQC_UNIT_OPEN_DEADLINE_SECONDS', 60, 5),
    detectorGroups: env.STREAMQC_DETECTOR_GROUPS ?? '',
    metricsPort: int(env, 'STREAMQC_METRICS_PORT', 0, 0, 65535),
    ndjsonPath: env.STREAMQC_NDJSON_PATH || undefined,
    snsTopicArn: env.STREAMQC_SNS_TOPIC_ARN || undefined,
    snsEndpoint: env.STREAMQC_SNS_ENDPOINT || undefined,
    webhookUrl: env.STREAMQC_WEBHOOK_URL || undefined,
    webhookSecret: env.STREAMQC_WEBHOOK_URL ? required(env, 'STREAMQC_WEBHOOK_SECRET') : undefined,
    console: env.STREAMQC_CONSOLE !== '0',
    thumbnailSeconds: num(env, 'STREAMQC_THUMBNAIL_SECONDS', 5, 1),
  };
}

export interface DispatcherConfig {
  port: number;
  /** API key → owner (local mode). */
  apiKeys: Map<string, string>;
  maxBodyBytes: number;
  workerBudget: number;
  maxWorkers: number;
  minWorkers: number;
  quota: OwnerQuota;
}

/** What one owner may register: one owner's burst cannot take the fleet from the others. */
export interface OwnerQuota {
  /** Active streams an owner may have at once (STREAMQC_OWNER_MAX_STREAMS). */
  maxStreams: number;
  /** Registrations an owner may make in one minute (STREAMQC_OWNER_REGISTRATIONS_PER_MINUTE). */
  registrationsPerMinute: number;
}

/** The owner quota from the environment (the same variables locally and on the Lambda). */
export function ownerQuota(env: Env = process.env): OwnerQuota {
  return {
    maxStreams: int(env, 'STREAMQC_OWNER_MAX_STREAMS', 200, 1, 1_000_000),
    registrationsPerMinute: int(env, 'STREAMQC_OWNER_REGISTRATIONS_PER_MINUTE', 120, 1, 1_000_000),
  };
}

/** Parses STREAMQC_API_KEYS (`owner:key,owner:key`). */
export function parseApiKeys(raw: string | undefined): Map<string, string> {
  const keys = new Map<string, string>();
  for (const pair of (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const at = pair.indexOf(':');
    if (at <= 0 || at === pair.length - 1)
      throw new ConfigError('STREAMQC_API_KEYS', 'must look like owner:key,owner:key');
    keys.set(pair.slice(at + 1), pair.slice(0, at));
  }
  return keys;
}

export function dispatcherConfig(env: Env = process.env): DispatcherConfig {
  return {
    port: int(env, 'PORT', 8080, 0, 65535),
    apiKeys: parseApiKeys(env.STREAMQC_API_KEYS),
    maxBodyBytes: int(env, 'STREAMQC_MAX_BODY_BYTES', 16 * 1024, 256, 1024 * 1024),
    workerBudget: int(env, 'STREAMQC_STREAM_BUDGET', 8, 1, 10_000),
    maxWorkers: int(env, 'STREAMQC_MAX_WORKERS', 20, 1, 10_000),
    minWorkers: int(env, 'STREAMQC_MIN_WORKERS', 1, 0, 10_000),
    quota: ownerQuota(env),
  };
}
