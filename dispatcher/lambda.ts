/**
 * The AWS adapter: API Gateway HTTP API (payload v2) events to the request handler. The caller is
 * the IAM principal that signed the request (SigV4), as API Gateway's IAM authorizer reports it.
 */
import { ECSClient } from '@aws-sdk/client-ecs';
import { recordAwsCalls, setAwsCallerRole } from '../shared/awsCallLog.js';
import { dispatcherConfig, registryConfig, securityConfig, workerConfig } from '../shared/config.js';
import { createLogger } from '../shared/logger.js';
import { mediaStoreFrom } from '../shared/media/MediaStore.js';
import { Registry } from '../shared/registry/Registry.js';
import { type FleetReport, fleetCheck } from './fleetCheck.js';
import { createHandler } from './handler.js';
import { ecsTaskCounts, type Launcher, NoopLauncher } from './launcher.js';
import type { ApiRequest } from './types.js';

/** The subset of the API Gateway v2 event the adapter reads. */
export interface HttpApiEvent {
  rawPath: string;
  rawQueryString?: string;
  headers?: Record<string, string | undefined>;
  body?: string;
  isBase64Encoded?: boolean;
  requestContext: {
    http: { method: string };
    authorizer?: {
      iam?: { userArn?: string; userId?: string };
      /** The console's routes (/console/api/…) on a stack with a JWT sign-in. */
      jwt?: { claims?: Record<string, string | undefined> };
    };
  };
}

export interface HttpApiResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded?: boolean;
}

/**
 * The owner of a signed request: the caller's IAM ARN, with an assumed role's session name
 * dropped (`arn:aws:sts::111122223333:assumed-role/Role/session` → `…:assumed-role/Role`), so
 * every session of one role owns the same streams and idempotency keys.
 */
export function ownerOf(arn: string | undefined): string | null {
  if (!arn) return null;
  const assumed = /^(arn:[^:]+:sts::\d+:assumed-role\/[^/]+)\/.+$/.exec(arn);
  return assumed ? assumed[1] : arn;
}

/**
 * The owner a console sign-in names: the token's owner claim (STREAMQC_CONSOLE_OWNER_CLAIM,
 * a Cognito custom attribute by default). API Gateway has checked the token's issuer, audience,
 * signature and expiry before the request gets here.
 */
export function jwtOwner(claims: Record<string, string | undefined> | undefined): string | null {
  const claim = process.env.STREAMQC_CONSOLE_OWNER_CLAIM || 'custom:streamqc_owner';
  const owner = claims?.[claim];
  return owner && /^[\x21-\x7e]{1,256}$/.test(owner) ? owner : null;
}

/** Converts an API Gateway event to an ApiRequest; exported for the adapter's tests. */
export function toApiRequest(event: HttpApiEvent, maxBodyBytes: number): ApiRequest | { tooLarge: true } {
  const raw = event.body
    ? event.isBase64Encoded
      ? Buffer.from(event.body, 'base64')
      : Buffer.from(event.body)
    : null;
  if (raw && raw.length > maxBodyBytes) return { tooLarge: true };
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) headers[k.toLowerCase()] = v;
  return {
    method: event.requestContext.http.method,
    path: event.rawPath.replace(/\/+$/, '') || '/',
    query: Object.fromEntries(new URLSearchParams(event.rawQueryString ?? '')),
    headers,
    body: raw ? raw.toString('utf8') : null,
    owner: event.requestContext.authorizer?.jwt
      ? jwtOwner(event.requestContext.authorizer.jwt.claims)
      : ownerOf(event.requestContext.authorizer?.iam?.userArn),
  };
}

const logger = createLogger('streamqc-dispatcher');
const dispatcher = dispatcherConfig();
const worker = workerConfig();
// Application Auto Scaling owns the task count; the dispatcher only reads it (for TasksShort).
const launcher: Launcher = new NoopLauncher();
setAwsCallerRole('dispatcher');
const ecs = new ECSClient({});
recordAwsCalls(ecs, 'ecs');
const taskCounts =
  process.env.STREAMQC_ECS_CLUSTER && process.env.STREAMQC_ECS_SERVICE
    ? ecsTaskCounts(ecs, process.env.STREAMQC_ECS_CLUSTER, process.env.STREAMQC_ECS_SERVICE)
    : undefined;
const registry = new Registry(registryConfig());
const handle = createHandler({
  registry,
  security: securityConfig(),
  launcher,
  logger,
  version: process.env.STREAMQC_VERSION ?? '0.1.0',
  detectorGroups: worker.detectorGroups,
  workerBudget: dispatcher.workerBudget,
  quota: dispatcher.quota,
  minWorkers: dispatcher.minWorkers,
  maxWorkers: dispatcher.maxWorkers,
  media: mediaStoreFrom(),
});

/** The EventBridge schedule's event (the fleet check, once a minute). */
export interface ScheduledEvent {
  source: 'aws.events';
  'detail-type': string;
}

/** The Lambda entry point: API requests, and the scheduled fleet check. */
export async function handler(event: HttpApiEvent): Promise<HttpApiResult>;
export async function handler(event: ScheduledEvent): Promise<FleetReport>;
export async function handler(event: HttpApiEvent | ScheduledEvent): Promise<HttpApiResult | FleetReport> {
  if ('source' in event && event.source === 'aws.events') {
    return fleetCheck({
      registry,
      launcher,
      logger,
      budget: dispatcher.workerBudget,
      minWorkers: dispatcher.minWorkers,
      maxWorkers: dispatcher.maxWorkers,
      metricNamespace: process.env.STREAMQC_EMF_NAMESPACE,
      metricService: process.env.STREAMQC_METRIC_SERVICE,
      taskCounts,
    });
  }
  return handleApi(event as HttpApiEvent);
}

async function handleApi(event: HttpApiEvent): Promise<HttpApiResult> {
  const request = toApiRequest(event, dispatcher.maxBodyBytes);
  const response =
    'tooLarge' in request
      ? {
          status: 413,
          body: {
            error: { code: 'payload_too_large', message: `body over ${dispatcher.maxBodyBytes} bytes` },
          },
        }
      : await handle(request);
  if (response.raw) {
    // The console's text files as they are; anything else (pictures) base64, as HTTP APIs take it.
    const text = response.raw.contentType.startsWith('text/');
    return {
      statusCode: response.status,
      headers: { ...response.headers, 'content-type': response.raw.contentType },
      body: response.raw.bytes.toString(text ? 'utf8' : 'base64'),
      ...(text ? {} : { isBase64Encoded: true }),
    };
  }
  return {
    statusCode: response.status,
    headers: { 'content-type': 'application/json', ...('headers' in response ? response.headers : {}) },
    body: response.body === null ? '' : JSON.stringify(response.body),
  };
}
