/**
 * docs/api.yaml, the API's OpenAPI 3.1 document, against the code: its paths and methods are the
 * route table's, its request and event schemas are the ones the code validates with, and every
 * answer it documents is one the handler really gives (real HTTP on 127.0.0.1, the real registry),
 * each body valid against the documented schema. Every documented answer is exercised.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { ROUTES } from '../../dispatcher/routes.js';
import { defectEventSchema } from '../../shared/eventSchema.js';
import type { DefectEvent } from '../../shared/events.js';
import {
  evidenceKey,
  FolderMediaStore,
  type MediaStore,
  thumbnailKey,
} from '../../shared/media/MediaStore.js';
import { projectRoot } from '../../shared/projectRoot.js';
import { unitId } from '../../shared/registry/Registry.js';
import { streamSpecSchema } from '../../shared/streamSpec.js';
import type { AudioChunk } from '../../worker/converter/types.js';
import { LoudnessLog } from '../../worker/pipeline/LoudnessLog.js';
import { KEYS, startTestApi, type TestApi } from '../helpers/apiServer.js';

// biome-ignore lint/suspicious/noExplicitAny: a parsed YAML document, walked by key
const doc: any = parse(readFileSync(join(projectRoot(), 'docs', 'api.yaml'), 'utf8'));
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

const ajv = new Ajv2020({
  strict: false,
  allErrors: true,
  formats: { 'date-time': (s: string) => !Number.isNaN(Date.parse(s)) && /^\d{4}-\d\d-\d\dT/.test(s) },
});
ajv.addSchema(doc, 'api');
const validator = (name: string) => ajv.compile({ $ref: `api#/components/schemas/${name}` });

/** The generated schemas as docs/api.yaml holds them. */
function generated() {
  const strip = ({ $schema: _, ...rest }: Record<string, unknown>) => rest;
  return {
    StreamSpec: strip(z.toJSONSchema(streamSpecSchema, { io: 'input' })),
    DefectEvent: strip(z.toJSONSchema(defectEventSchema, { io: 'output' })),
  };
}

let api: TestApi;
let quotaApi: TestApi;
/** `METHOD path-template status` of every answer seen. */
const seen = new Set<string>();

/** Calls the API and checks the answer against the document; returns it. */
const logger = pino({ level: 'silent' });

/** 100 ms of a stereo 1 kHz tone at `amplitude`, arrived at wall time `wallMs`. */
function tone(wallMs: number, amplitude: number): AudioChunk {
  const samples = new Float32Array(9600);
  for (let i = 0; i < 4800; i++)
    samples[2 * i] = samples[2 * i + 1] = amplitude * Math.sin((2 * Math.PI * i) / 48);
  return { t: 0, wallMs, sampleRate: 48_000, channels: 2, samples };
}

async function call(
  method: string,
  template: string,
  path: string,
  options: Parameters<TestApi['call']>[2] = {},
  on: TestApi = api,
) {
  const r = await on.call(method, path, options);
  const operation = doc.paths[template]?.[method.toLowerCase()];
  // A method the path does not list: 405 with the error body.
  let response = operation
    ? operation.responses[String(r.status)]
    : r.status === 405
      ? { $ref: 'Error' }
      : undefined;
  expect(response, `${method} ${template} answered ${r.status}, not documented`).toBeDefined();
  if (response.$ref) response = doc.components.responses[response.$ref.split('/').pop()];
  // A redirect (AWS: a presigned link) carries no body; a picture or a console file is not JSON.
  const type = (r.headers.get('content-type') ?? '').split(';')[0];
  if (r.status === 302 || (type && type !== 'application/json')) {
    if (r.status === 302) expect(r.headers.get('location')).toBeTruthy();
    else
      expect(Object.keys(response.content ?? {}), `${method} ${path} ${r.status} as ${type}`).toContain(type);
    seen.add(`${method} ${template} ${r.status}`);
    return r;
  }
  const schema = response.content['application/json'].schema;
  const validate = schema.$ref ? ajv.compile({ $ref: `api${schema.$ref}` }) : ajv.compile(schema);
  const valid = validate(r.body);
  expect(
    valid,
    `${method} ${path} ${r.status}: ${JSON.stringify(validate.errors)} in ${JSON.stringify(r.body)}`,
  ).toBe(true);
  seen.add(`${method} ${template} ${r.status}`);
  return r;
}

const SPEC = {
  url: 'https://user:secret@cdn.example.com/live/index.m3u8?token=abc',
  name: 'news',
  labels: { team: 'playout' },
  detectors: ['video.black', 'audio.silence', 'stream.loss'],
  thresholds: { black: { minDuration: 2 }, silence: { levelDbfs: -55 } },
  expect: { audio: true, video: true },
  decode: 'full',
  rendition: 'lowest',
  verifyTls: false,
};

/** A store like the S3 one: it answers with a link. */
const linking: MediaStore = {
  put: async () => {},
  read: async (key) => ({ link: `https://media.s3.amazonaws.com/${key}?X-Amz-Signature=0` }),
  bytes: async () => null,
};
const media = new FolderMediaStore(mkdtempSync(join(tmpdir(), 'streamqc-openapi-')));
let linkApi: TestApi;

beforeAll(async () => {
  api = await startTestApi({ maxBodyBytes: 8 * 1024, media });
  linkApi = await startTestApi({ media: linking });
  quotaApi = await startTestApi({ quota: { maxStreams: 1, registrationsPerMinute: 100 } });
});
afterAll(async () => {
  await api?.close();
  await quotaApi?.close();
  await linkApi?.close();
});

describe('docs/api.yaml', () => {
  it('documents exactly the routes and methods the handler answers', () => {
    const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item as object)
        .filter((k) => METHODS.includes(k))
        .map((m) => `${m.toUpperCase()} ${path}`),
    );
    const routed = ROUTES.flatMap((r) => Object.keys(r.methods).map((m) => `${m} ${r.path}`));
    expect(documented.sort()).toEqual(routed.sort());
    for (const route of ROUTES)
      for (const method of Object.keys(route.methods)) {
        const operation = doc.paths[route.path][method.toLowerCase()];
        // Routes without authentication say so (security: []); the others inherit the API's.
        expect(operation.security?.length === 0).toBe(!route.auth);
      }
  });

  it('holds the request and event schemas the code validates with', () => {
    const now = generated();
    const message = `docs/api.yaml is out of date; replace the generated schemas with:\n${stringify(now, { indent: 2 })}`;
    expect(doc.components.schemas.StreamSpec, message).toEqual(now.StreamSpec);
    expect(doc.components.schemas.DefectEvent, message).toEqual(now.DefectEvent);
    // The schema and the handler agree on what a valid registration is.
    expect(validator('StreamSpec')(SPEC)).toBe(true);
    expect(validator('StreamSpec')({ ...SPEC, colour: 'red' })).toBe(false);
  });

  it('describes every answer the API gives, and each answer documented is given', async () => {
    await call('GET', '/health', '/health', { key: null });
    await call('POST', '/health', '/health', { key: null, body: {} });

    const created = await call('POST', '/streams', '/streams', {
      body: SPEC,
      headers: { 'idempotency-key': 'k-1' },
    });
    expect(created.status).toBe(201);
    expect(created.body.url).not.toContain('secret');
    const replay = await call('POST', '/streams', '/streams', {
      body: SPEC,
      headers: { 'idempotency-key': 'k-1' },
    });
    expect(replay.status).toBe(200);
    expect((await call('POST', '/streams', '/streams', { body: { ...SPEC, colour: 'red' } })).status).toBe(
      400,
    );
    expect((await call('POST', '/streams', '/streams', { body: SPEC, key: null })).status).toBe(401);
    const conflict = { body: { ...SPEC, name: 'other' }, headers: { 'idempotency-key': 'k-1' } };
    expect((await call('POST', '/streams', '/streams', conflict)).status).toBe(409);
    expect((await call('POST', '/streams', '/streams', { raw: 'x'.repeat(9000) })).status).toBe(413);
    const plain = { raw: JSON.stringify(SPEC), headers: { 'content-type': 'text/plain' } };
    expect((await call('POST', '/streams', '/streams', plain)).status).toBe(415);
    const small = { body: { url: 'https://cdn.example.com/a.m3u8' } };
    expect((await call('POST', '/streams', '/streams', small, quotaApi)).status).toBe(201);
    expect((await call('POST', '/streams', '/streams', small, quotaApi)).status).toBe(429);

    await call('POST', '/streams', '/streams', { body: { url: 'https://cdn.example.com/b.m3u8' } });
    const page = await call('GET', '/streams', '/streams?limit=1');
    expect(page.body.nextCursor).toEqual(expect.any(String));
    expect((await call('GET', '/streams', '/streams?limit=0')).status).toBe(400);
    expect((await call('GET', '/streams', '/streams', { key: null })).status).toBe(401);

    // A stream with health and an open alarm, as a worker leaves them.
    const id: string = created.body.id;
    const event: DefectEvent = {
      type: 'video.black',
      state: 'raised',
      streamId: id,
      start: 12.5,
      end: null,
      wallStart: new Date().toISOString(),
      severity: 'critical',
      dedupKey: `video.black:${id}:1`,
      owner: 'alice',
      detail: {
        meanLuma: 0.01,
        rendition: { uri: 'https://cdn.example.com/live/720p.m3u8', bandwidth: 3e6 },
      },
    };
    await api.registry.health.put(unitId(id, 'all'), {
      workerId: 'worker-1',
      state: 'running',
      mediaTime: 20.04,
      lagSeconds: 0.3,
      updatedAt: new Date().toISOString(),
      lastMediaAt: new Date().toISOString(),
      restarts: 1,
      lastError: 'ffmpeg ended',
    });
    await api.registry.alarms.open(event);
    await api.registry.alarms.record(event);
    const one = await call('GET', '/streams/{id}', `/streams/${id}`);
    expect(one.body.openAlarms).toHaveLength(1);
    expect(Object.keys(one.body.health)).toEqual(['all']);
    expect((await call('GET', '/streams/{id}', `/streams/${id}`, { key: KEYS.bob })).status).toBe(404);
    expect((await call('GET', '/streams/{id}', `/streams/${id}`, { key: null })).status).toBe(401);

    const defects = await call('GET', '/streams/{id}/defects', `/streams/${id}/defects?limit=10`);
    expect(defects.body.items).toHaveLength(1);
    expect((await call('GET', '/streams/{id}/defects', `/streams/${id}/defects?limit=501`)).status).toBe(400);
    expect(
      (await call('GET', '/streams/{id}/defects', `/streams/${id}/defects`, { key: KEYS.bob })).status,
    ).toBe(404);
    expect((await call('GET', '/streams/{id}/defects', `/streams/${id}/defects`, { key: null })).status).toBe(
      401,
    );

    // Pictures: none yet (404), then as a worker stores them; on AWS a link.
    const thumb = ['GET', '/streams/{id}/thumbnail', `/streams/${id}/thumbnail`] as const;
    expect((await call(...thumb)).status).toBe(404);
    expect((await call(...thumb, { key: null })).status).toBe(401);
    await media.put(thumbnailKey(id), Buffer.from([0xff, 0xd8, 0xff, 0xd9]), 'image/jpeg');
    expect((await call(...thumb)).status).toBe(200);
    const evidence = '/streams/{id}/evidence/{file}';
    const file = 'ev_00000000000000000000';
    await media.put(evidenceKey(id, file, 'jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xd9]), 'image/jpeg');
    await media.put(evidenceKey(id, file, 'json'), Buffer.from('{"levels":[]}'), 'application/json');
    expect((await call('GET', evidence, `/streams/${id}/evidence/${file}.jpg`)).status).toBe(200);
    expect((await call('GET', evidence, `/streams/${id}/evidence/${file}.json`)).status).toBe(200);
    expect((await call('GET', evidence, `/streams/${id}/evidence/${file}.png`)).status).toBe(404);
    expect((await call('GET', evidence, `/streams/${id}/evidence/${file}.jpg`, { key: null })).status).toBe(
      401,
    );
    const linked = (await linkApi.call('POST', '/streams', { body: SPEC })).body.id;
    expect(
      (await call('GET', '/streams/{id}/thumbnail', `/streams/${linked}/thumbnail`, {}, linkApi)).status,
    ).toBe(302);
    expect((await call('GET', evidence, `/streams/${linked}/evidence/${file}.jpg`, {}, linkApi)).status).toBe(
      302,
    );
    // The loudness log: none kept for this stream (404); one that keeps it, from what a worker wrote.
    const loudness = '/streams/{id}/loudness';
    expect((await call('GET', loudness, `/streams/${id}/loudness`)).status).toBe(404);
    const logged = (
      await call('POST', '/streams', '/streams', { body: { ...SPEC, loudness: { standard: 'r128' } } })
    ).body.id;
    const log = new LoudnessLog({
      streamId: logged,
      standard: 'r128',
      periodMinutes: 60,
      store: media,
      logger,
    });
    // 90 s of sound ending before now, inside one clock hour: the log's periods are whole hours
    // (epoch-aligned), and a span across one would answer two periods (this failed just after 22:00).
    const hour = 3_600_000;
    let start = Math.floor(Date.now() / 60_000) * 60_000 - 120_000;
    const boundary = Math.floor((start + 90_000) / hour) * hour;
    if (boundary > start) start = boundary - 91_000;
    for (let c = 0; c < 900; c++) log.sound(tone(start + c * 100, 0.1));
    await log.flush();
    const answer = await call('GET', loudness, `/streams/${logged}/loudness`);
    expect(answer.status).toBe(200);
    expect(answer.body.series.length).toBeGreaterThan(60);
    expect(answer.body.periods).toHaveLength(1);
    expect((await call('GET', loudness, `/streams/${logged}/loudness?from=yesterday`)).status).toBe(400);
    expect((await call('GET', loudness, `/streams/${logged}/loudness`, { key: KEYS.bob })).status).toBe(404);
    expect((await call('GET', loudness, `/streams/${logged}/loudness`, { key: null })).status).toBe(401);

    // The console: its page and files without credentials; no other name.
    expect((await call('GET', '/console', '/console', { key: null })).status).toBe(200);
    expect((await call('GET', '/console/{file}', '/console/app.js', { key: null })).status).toBe(200);
    expect((await call('GET', '/console/{file}', '/console/x.js', { key: null })).status).toBe(404);

    expect((await call('DELETE', '/streams/{id}', `/streams/${id}`, { key: KEYS.bob })).status).toBe(404);
    expect((await call('DELETE', '/streams/{id}', `/streams/${id}`, { key: null })).status).toBe(401);
    const deleted = await call('DELETE', '/streams/{id}', `/streams/${id}`);
    expect(deleted.body).toEqual({ id, state: 'deleted', clearedAlarms: 1 });

    const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item as Record<string, { responses?: object }>)
        .filter(([m]) => METHODS.includes(m))
        .flatMap(([m, op]) => Object.keys(op.responses ?? {}).map((s) => `${m.toUpperCase()} ${path} ${s}`)),
    );
    expect(documented.filter((d) => !seen.has(d))).toEqual([]);
  });
});
