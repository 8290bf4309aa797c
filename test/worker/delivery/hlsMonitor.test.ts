/**
 * The HLS delivery rules, one at a time, against a scripted origin whose "packager" adds a 1 s
 * segment every second to two renditions: each fault is raised once for its rendition and cleared
 * once after the origin behaves again.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFECT_TYPES, type DefectEvent, type RenditionRef } from '../../../shared/events.js';
import { resolveThresholds } from '../../../shared/thresholds.js';
import { MediaClock } from '../../../worker/converter/MediaClock.js';
import {
  LadderMonitor,
  type LadderMonitorOptions,
  MAX_RENDITIONS,
} from '../../../worker/delivery/LadderMonitor.js';
import { DOCUMENTS_BASE } from '../../../worker/egress/GuardProxy.js';
import { PACKET } from '../../../worker/transport/TsAnalyzer.js';
import { fixturePath, fixturesReady } from '../../fixtures/generate.js';

// The fixture clips are made in the background (test/fixtures/globalSetup.ts).
beforeAll(() => fixturesReady(['clean.ts']));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Track {
  first: number;
  segments: { msn: number; duration: number }[];
  /** Answer the playlist with 404. */
  missing: boolean;
  /** Stop adding segments. */
  frozen: boolean;
}

/** Two picture renditions (sound muxed in). */
const MUXED_MASTER =
  '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\nr0.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=300000\nr1.m3u8\n';
/** Two picture renditions sharing an audio group of two languages (r2 English, the default; r3 French). */
const SEPARATE_SOUND_MASTER = [
  '#EXTM3U',
  '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,URI="r2.m3u8"',
  '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",NAME="Français",LANGUAGE="fr",DEFAULT=NO,AUTOSELECT=YES,URI="r3.m3u8"',
  '#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,AUDIO="aac"',
  'r0.m3u8',
  '#EXT-X-STREAM-INF:BANDWIDTH=300000,AUDIO="aac"',
  'r1.m3u8',
  '',
].join('\n');

class ScriptedOrigin {
  readonly tracks: Track[];
  constructor(private readonly master = MUXED_MASTER) {
    const count = master === MUXED_MASTER ? 2 : 4;
    this.tracks = Array.from({ length: count }, () => ({
      first: 0,
      segments: [],
      missing: false,
      frozen: false,
    }));
  }
  failSegment: string | null = null;
  /** Answer the multivariant playlist with this status instead. */
  masterStatus = 0;
  /** The whole origin down: every request's connection dropped. */
  down = false;
  slowSegment: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private server: Server | null = null;
  base = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const name = (req.url ?? '').slice(1);
      if (this.down) {
        req.socket.destroy();
        return;
      }
      if (name === 'master.m3u8') {
        if (this.masterStatus) res.writeHead(this.masterStatus).end();
        else res.end(this.master);
        return;
      }
      const playlist = /^r(\d)\.m3u8$/.exec(name);
      if (playlist) {
        const track = this.tracks[Number(playlist[1])];
        if (!track || track.missing) {
          res.writeHead(404).end();
          return;
        }
        const lines = [
          '#EXTM3U',
          '#EXT-X-TARGETDURATION:1',
          `#EXT-X-MEDIA-SEQUENCE:${track.segments[0]?.msn ?? 0}`,
        ];
        for (const s of track.segments)
          lines.push(`#EXTINF:${s.duration.toFixed(3)},`, `r${playlist[1]}_${s.msn}.ts`);
        res.end(`${lines.join('\n')}\n`);
        return;
      }
      if (name === this.failSegment || !/^r\d_\d+\.ts$/.test(name)) {
        res.writeHead(404).end();
        return;
      }
      if (name === this.slowSegment) {
        // Half the body, then the rest after 1.6 s: a 1 s segment slower than real time.
        res.writeHead(200, { 'content-length': 188 * 10 });
        res.write(Buffer.alloc(188 * 5, 0x47));
        setTimeout(() => res.end(Buffer.alloc(188 * 5, 0x47)), 1600);
        return;
      }
      res.end(Buffer.alloc(188 * 10, 0x47));
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', () => r()));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
    for (let i = 0; i < 4; i++) this.add();
    this.timer = setInterval(() => this.add(), 1000);
  }

  /**
   * The packager's next segment on every rendition that is not frozen (window of 5). `skip`: the
   * packager jumps ahead (a restart that lost its numbering): the window restarts past a gap.
   */
  add(options: { skip?: number; duration?: number } = {}): void {
    for (const track of this.tracks) {
      if (track.frozen) continue;
      const last = track.segments[track.segments.length - 1]?.msn ?? -1;
      if (options.skip) track.segments = [];
      track.segments.push({ msn: last + 1 + (options.skip ?? 0), duration: options.duration ?? 1 });
      if (track.segments.length > 5) track.segments.shift();
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }
}

let cleanup: (() => Promise<void>) | null = null;
afterEach(async () => {
  await cleanup?.();
  cleanup = null;
});

/** Monitor options of a local-mode stream with every detector, as tests vary them. */
function monitorOptions(overrides: Partial<LadderMonitorOptions> = {}): LadderMonitorOptions {
  return {
    streamId: 'scripted',
    security: { localMode: true, allowFiles: false, allowedNetworks: [] },
    thresholds: resolveThresholds(),
    types: DEFECT_TYPES,
    decode: 'top',
    logger: pino({ level: 'silent' }),
    clock: new MediaClock({ live: true, segmented: true, outageSeconds: 3 }),
    wallClock: () => new Date(),
    proxyObserves: true,
    documentsBase: DOCUMENTS_BASE,
    onEvent: () => {},
    ...overrides,
  };
}

/** Serves `handler` on 127.0.0.1 until the test ends; resolves with its base URL. */
async function serve(handler: RequestListener): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanup = async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  };
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

async function watch(
  origin: ScriptedOrigin,
  overrides: Partial<LadderMonitorOptions> = {},
  /** Called before the monitor starts (a restart's restore). */
  prepare?: (monitor: LadderMonitor) => void,
) {
  const clock = new MediaClock({ live: true, segmented: true, outageSeconds: 3 });
  const events: DefectEvent[] = [];
  const monitor = await LadderMonitor.open(
    `${origin.base}master.m3u8`,
    monitorOptions({
      thresholds: resolveThresholds({ delivery: { quietSeconds: 2, sampleSeconds: 1 } }),
      types: DEFECT_TYPES.filter((t) => t.startsWith('delivery.')),
      clock,
      proxyObserves: false,
      masterReloadSeconds: 1,
      onEvent: (e) => events.push(e),
      ...overrides,
    }),
  );
  if (!monitor) throw new Error('not read as HLS');
  prepare?.(monitor);
  monitor.start();
  // Media arrives as a decoder would deliver it; the monitor judges every half second.
  const started = Date.now();
  const media = setInterval(() => clock.place('video', (Date.now() - started) / 1000, 0.1), 100);
  const ticks = setInterval(() => monitor.tick(), 500);
  cleanup = async () => {
    clearInterval(media);
    clearInterval(ticks);
    monitor.stop();
    await origin.stop();
  };
  return { monitor, events };
}

/** A scripted origin watched for 2.5 s (every rendition loaded, samples taken) before the fault. */
async function watchScripted() {
  const origin = new ScriptedOrigin();
  await origin.start();
  const watching = await watch(origin);
  await sleep(2500);
  return { origin, ...watching };
}

const renditionOf = (e: DefectEvent) => (e.detail.rendition as RenditionRef).uri;

/** The events of one type as [state, rendition file] pairs. */
/**
 * The raises and clears of a type with their rendition, in order; renditions are polled side by
 * side, so within a run of the same state (both raised, then both cleared) they are sorted by name.
 */
function story(events: DefectEvent[], type: string): [string, string][] {
  const entries = events
    .filter((e) => e.type === type)
    .map((e): [string, string] => [e.state, renditionOf(e).split('/').pop() ?? '']);
  const runs: [string, string][][] = [];
  for (const entry of entries) {
    const run = runs.at(-1);
    if (run && run[0][0] === entry[0]) run.push(entry);
    else runs.push([entry]);
  }
  return runs.flatMap((run) => run.sort((a, b) => a[1].localeCompare(b[1])));
}

describe('HLS delivery rules', () => {
  it('reads the ladder: the top rendition is decoded, every rendition named', async () => {
    const origin = new ScriptedOrigin();
    await origin.start();
    const { monitor, events } = await watch(origin);
    expect(monitor.decoderUrl).toBe(`${origin.base}r0.m3u8`);
    expect(monitor.renditions.map((r) => r.ref)).toEqual([
      { uri: `${origin.base}r0.m3u8`, bandwidth: 800000, resolution: '640x360' },
      { uri: `${origin.base}r1.m3u8`, bandwidth: 300000 },
    ]);
    await sleep(5000);
    expect(events).toEqual([]);
  }, 20_000);

  it('leaves an endless http stream that is not a playlist to ffmpeg, without reading it', async () => {
    const base = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'video/mp2t' });
      const timer = setInterval(() => res.write(Buffer.alloc(1316, 0x47)), 50);
      res.on('close', () => clearInterval(timer));
    });
    const started = Date.now();
    const monitor = await LadderMonitor.open(`${base}live.ts`, monitorOptions({ streamId: 'not-hls' }));
    expect(monitor).toBeNull();
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('watches at most a dozen renditions of a ladder that lists forty', async () => {
    const base = await serve((_req, res) => {
      const lines = ['#EXTM3U'];
      for (let i = 0; i < 40; i++)
        lines.push(`#EXT-X-STREAM-INF:BANDWIDTH=${(i + 1) * 100000}`, `v${i}.m3u8`);
      res.end(`${lines.join('\n')}\n`);
    });
    const monitor = await LadderMonitor.open(`${base}master.m3u8`, monitorOptions({ streamId: 'wide' }));
    expect(monitor?.renditions.length).toBe(MAX_RENDITIONS);
    expect(monitor?.decoderUrl).toBe(`${base}v39.m3u8`);
    // The decoded rendition and the eleven nearest it in bandwidth.
    expect(Math.min(...(monitor?.renditions.map((r) => r.ref.bandwidth) ?? []))).toBe(2900000);
  });

  it('delivery.sequence: segments skipped', async () => {
    const { origin, events } = await watchScripted();
    origin.add({ skip: 6 });
    await sleep(6000);
    expect(story(events, 'delivery.sequence')).toEqual([
      ['raised', 'r0.m3u8'],
      ['raised', 'r1.m3u8'],
      ['cleared', 'r0.m3u8'],
      ['cleared', 'r1.m3u8'],
    ]);
    expect(events.find((e) => e.type === 'delivery.sequence')?.detail.reason).toBe('segments skipped');
    expect(events.every((e) => e.type === 'delivery.sequence')).toBe(true);
  }, 20_000);

  it('delivery.segment_duration: a segment longer than the target duration', async () => {
    const { origin, events } = await watchScripted();
    origin.add({ duration: 2.6 });
    await sleep(6000);
    expect(story(events, 'delivery.segment_duration')).toEqual([
      ['raised', 'r0.m3u8'],
      ['raised', 'r1.m3u8'],
      ['cleared', 'r0.m3u8'],
      ['cleared', 'r1.m3u8'],
    ]);
    expect(events.find((e) => e.type === 'delivery.segment_duration')?.detail.duration).toBe(2.6);
  }, 20_000);

  it('delivery.segment_error: a segment answered 404', async () => {
    const { origin, events } = await watchScripted();
    const next = origin.tracks[1].segments[origin.tracks[1].segments.length - 1].msn + 1;
    origin.failSegment = `r1_${next}.ts`;
    await sleep(6000);
    expect(story(events, 'delivery.segment_error')).toEqual([
      ['raised', 'r1.m3u8'],
      ['cleared', 'r1.m3u8'],
    ]);
    expect(events[0].detail.status).toBe(404);
    expect(events.every((e) => e.type === 'delivery.segment_error')).toBe(true);
  }, 20_000);

  it('delivery.segment_error: a segment slower to download than its own duration', async () => {
    const { origin, events } = await watchScripted();
    const next = origin.tracks[1].segments[origin.tracks[1].segments.length - 1].msn + 1;
    origin.slowSegment = `r1_${next}.ts`;
    await sleep(7000);
    expect(story(events, 'delivery.segment_error')).toEqual([
      ['raised', 'r1.m3u8'],
      ['cleared', 'r1.m3u8'],
    ]);
    expect(events[0].detail.reason).toBe('slower than real time');
    expect(Number(events[0].detail.downloadMs)).toBeGreaterThan(1500);
    expect(events.every((e) => e.type === 'delivery.segment_error')).toBe(true);
  }, 20_000);

  it('delivery.segment_error: the decoded segment whose download never ends, judged while it runs', async () => {
    const origin = new ScriptedOrigin();
    await origin.start();
    // The decoded rendition's downloads are ffmpeg's, seen through the guard proxy.
    const { monitor, events } = await watch(origin, { proxyObserves: true });
    await sleep(2500);
    const newest = origin.tracks[0].segments[origin.tracks[0].segments.length - 1].msn;
    const url = `${origin.base}r0_${newest}.ts`;
    const started = Date.now();
    // The proxy's once-a-second report of a body still arriving after 1, 2, 3 s.
    for (let i = 0; i < 3; i++) {
      await sleep(1000);
      monitor.onExchange({ url, status: 200, ms: Date.now() - started, inProgress: true });
    }
    await sleep(1500);

    const raised = events.filter((e) => e.type === 'delivery.segment_error' && e.state === 'raised');
    expect(raised.map(renditionOf)).toEqual([`${origin.base}r0.m3u8`]);
    expect(raised[0].detail.reason).toMatch(/download not complete after \d+ s \(still running\)/);
  }, 20_000);

  it('an origin outage is one cause: no variant missing per rendition, and the gap it left is not a skip', async () => {
    const { origin, events } = await watchScripted();
    origin.down = true;
    await sleep(7000);
    origin.down = false;
    await sleep(5000);
    // Every playlist failed together (the stream's loss, raised by the loss rule), and after it the
    // window had moved on by the segments published while nobody could poll.
    expect(events.filter((e) => e.type === 'delivery.variant_missing')).toEqual([]);
    expect(events.filter((e) => e.type === 'delivery.sequence')).toEqual([]);
  }, 30_000);

  it('delivery.variant_missing: a variant whose playlist cannot be loaded, then comes back', async () => {
    const { origin, events } = await watchScripted();
    origin.tracks[1].missing = true;
    await sleep(4000);
    origin.tracks[1].missing = false;
    await sleep(5000);
    expect(story(events, 'delivery.variant_missing')).toEqual([
      ['raised', 'r1.m3u8'],
      ['cleared', 'r1.m3u8'],
    ]);
    expect(events.every((e) => e.type === 'delivery.variant_missing')).toBe(true);
  }, 20_000);

  it('delivery.segment_error: the multivariant playlist no longer served while its renditions play on, then back', async () => {
    const { origin, events } = await watchScripted();
    const until = async (state: string) => {
      for (let i = 0; i < 100 && !events.some((e) => e.state === state); i++) await sleep(100);
    };
    origin.masterStatus = 503;
    await until('raised');
    const duringFault = events.map((e) => `${e.state} ${e.type} ${renditionOf(e).split('/').pop()}`);
    origin.masterStatus = 0;
    await until('cleared');
    const raised = events.find((e) => e.state === 'raised');
    expect(duringFault).toEqual(['raised delivery.segment_error master.m3u8']);
    expect(raised?.detail).toMatchObject({ document: 'multivariant', status: 503 });
    expect(raised?.detail.failures).toBeGreaterThanOrEqual(2);
    expect(events.map((e) => `${e.state} ${e.type} ${renditionOf(e).split('/').pop()}`)).toEqual([
      'raised delivery.segment_error master.m3u8',
      'cleared delivery.segment_error master.m3u8',
    ]);
  }, 30_000);

  it('a multivariant alarm restored after a restart stays raised while the playlist still fails', async () => {
    const origin = new ScriptedOrigin();
    await origin.start();
    const master = `${origin.base}master.m3u8`;
    const restored = {
      type: 'delivery.segment_error',
      state: 'raised',
      start: 0,
      dedupKey: 'delivery.segment_error:restored',
      wallStart: new Date().toISOString(),
      detail: { rendition: { uri: master, bandwidth: 0 }, document: 'multivariant' },
    } as unknown as DefectEvent;
    const { events } = await watch(origin, { masterReloadSeconds: 30 }, (monitor) => {
      origin.masterStatus = 503;
      monitor.restore([restored]);
    });
    // Past the clear delay (quietSeconds 2): still failing, so still raised.
    await sleep(4000);
    const whileFailing = events.filter((e) => e.type === 'delivery.segment_error');
    origin.masterStatus = 0;
    for (let i = 0; i < 150 && !events.some((e) => e.state === 'cleared'); i++) await sleep(100);
    expect(whileFailing).toEqual([]);
    expect(events.map((e) => [e.state, e.type, e.dedupKey])).toEqual([
      ['cleared', 'delivery.segment_error', 'delivery.segment_error:restored'],
    ]);
  }, 30_000);

  it('delivery.playlist_stale: one rendition stops updating for longer than 3 target durations', async () => {
    const { origin, events } = await watchScripted();
    const stoppedAt = Date.now();
    origin.tracks[1].frozen = true;
    while (Date.now() - stoppedAt < 9000 && events.length === 0) await sleep(100);
    // 3 × 1 s target duration, found by a reload at most half a target duration later.
    expect(Date.now() - stoppedAt).toBeLessThan(3000 + 1500 + 1000);
    origin.tracks[1].frozen = false;
    await sleep(5000);
    expect(story(events, 'delivery.playlist_stale')).toEqual([
      ['raised', 'r1.m3u8'],
      ['cleared', 'r1.m3u8'],
    ]);
    expect(events.filter((e) => e.type !== 'delivery.playlist_stale')).toEqual([]);
  }, 25_000);
});

describe('HLS sound in a rendition group of its own', () => {
  it('decodes the chosen picture rendition with its default sound, and watches every sound rendition', async () => {
    const origin = new ScriptedOrigin(SEPARATE_SOUND_MASTER);
    await origin.start();
    const { monitor, events } = await watch(origin, { decode: 'lowest' });
    // ffmpeg reads a multivariant playlist of the two, served by the monitor through the proxy.
    expect(monitor.decoderUrl).toBe(`${DOCUMENTS_BASE}master.m3u8`);
    const pair = monitor.document('master.m3u8') ?? '';
    expect(pair).toContain(`URI="${origin.base}r2.m3u8"`);
    expect(pair.trim().split('\n').pop()).toBe(`${origin.base}r1.m3u8`);
    expect(pair).not.toContain('r0.m3u8');
    expect(pair).not.toContain('r3.m3u8');
    expect(monitor.renditions.map((r) => [r.ref, r.decoded])).toEqual([
      [{ uri: `${origin.base}r0.m3u8`, bandwidth: 800000, resolution: '640x360' }, false],
      [{ uri: `${origin.base}r1.m3u8`, bandwidth: 300000 }, true],
      [{ uri: `${origin.base}r2.m3u8`, bandwidth: 0, type: 'audio', language: 'en', name: 'English' }, true],
      [
        { uri: `${origin.base}r3.m3u8`, bandwidth: 0, type: 'audio', language: 'fr', name: 'Français' },
        false,
      ],
    ]);
    await sleep(4000);
    expect(events).toEqual([]);
  }, 20_000);

  it("names a sound rendition's own faults: its playlist missing, its segment 404", async () => {
    const origin = new ScriptedOrigin(SEPARATE_SOUND_MASTER);
    await origin.start();
    const { events } = await watch(origin);
    await sleep(2500);
    origin.tracks[3].missing = true;
    const next = origin.tracks[2].segments[origin.tracks[2].segments.length - 1].msn + 1;
    origin.failSegment = `r2_${next}.ts`;
    await sleep(4000);
    origin.tracks[3].missing = false;
    await sleep(5000);
    expect(story(events, 'delivery.variant_missing')).toEqual([
      ['raised', 'r3.m3u8'],
      ['cleared', 'r3.m3u8'],
    ]);
    expect(story(events, 'delivery.segment_error')).toEqual([
      ['raised', 'r2.m3u8'],
      ['cleared', 'r2.m3u8'],
    ]);
    const missing = events.find((e) => e.type === 'delivery.variant_missing');
    expect(missing?.detail.rendition).toMatchObject({ type: 'audio', language: 'fr' });
    expect(
      events.every((e) => e.type === 'delivery.variant_missing' || e.type === 'delivery.segment_error'),
    ).toBe(true);
  }, 25_000);

  it('without a proxy to serve its own playlist, leaves the master to ffmpeg (its first variant)', async () => {
    const origin = new ScriptedOrigin(SEPARATE_SOUND_MASTER);
    await origin.start();
    const { monitor } = await watch(origin, { documentsBase: null });
    expect(monitor.decoderUrl).toBe(`${origin.base}master.m3u8`);
    expect(monitor.renditions.filter((r) => r.decoded).map((r) => r.ref.uri)).toEqual([
      `${origin.base}r0.m3u8`,
    ]);
  }, 20_000);
});

/** A monitor of one media playlist with only the transport checks, fed by the test as the decoder's downloads. */
async function watchTransport(url: string, streamId: string) {
  const clock = new MediaClock({ live: true, segmented: true, outageSeconds: 3 });
  const events: DefectEvent[] = [];
  const monitor = await LadderMonitor.open(
    url,
    monitorOptions({
      streamId,
      thresholds: resolveThresholds({ transport: { quietSeconds: 2 } }),
      types: DEFECT_TYPES.filter((t) => t.startsWith('transport.')),
      clock,
      onEvent: (e) => events.push(e),
    }),
  );
  if (!monitor) throw new Error('not read as HLS');
  monitor.start();
  const stop = cleanup;
  cleanup = async () => {
    monitor.stop();
    await stop?.();
  };
  return { clock, events, monitor };
}

describe('TR 101 290 on TS segments', () => {
  it("checks the decoded rendition's segments as one transport stream: a lost packet is transport.continuity for it", async () => {
    // A real 10 s TS cut into ten 1 s segments at packet boundaries, listed at once.
    const clip = readFileSync(fixturePath('clean.ts'));
    const packets = clip.length / PACKET;
    const slice = (i: number) =>
      clip.subarray(Math.floor((packets * i) / 10) * PACKET, Math.floor((packets * (i + 1)) / 10) * PACKET);
    const base = await serve((_req, res) => {
      const lines = ['#EXTM3U', '#EXT-X-TARGETDURATION:1', '#EXT-X-MEDIA-SEQUENCE:0'];
      for (let i = 0; i < 10; i++) lines.push('#EXTINF:1.000,', `s${i}.ts`);
      res.end(`${lines.join('\n')}\n`);
    });
    const { clock, events, monitor } = await watchTransport(`${base}live.m3u8`, 'ts-segments');
    while (monitor.decoded.segments.size < 10) await sleep(50);
    // The decoder's downloads, as the guard proxy reports them; the fifth segment lost a packet.
    for (let i = 0; i < 10; i++) {
      let body = Buffer.from(slice(i));
      if (i === 5) body = Buffer.concat([body.subarray(0, 100 * PACKET), body.subarray(101 * PACKET)]);
      monitor.onExchange({ url: `${base}s${i}.ts`, status: 200, ms: 20, body });
      clock.place('video', i + 0.99, 0.01);
      monitor.tick();
    }
    for (let t = 10; t < 14; t++) {
      clock.place('video', t + 0.99, 0.01);
      monitor.tick();
    }
    expect(events.map((e) => [e.type, e.state, renditionOf(e), e.detail.seenBy])).toEqual([
      ['transport.continuity', 'raised', `${base}live.m3u8`, 'segment'],
      ['transport.continuity', 'cleared', `${base}live.m3u8`, 'segment'],
    ]);
    expect(events[0].start).toBeGreaterThanOrEqual(4);
    expect(events[0].start).toBeLessThan(6);
  });

  it('expects PAT and PMT once per segment, however long the segment: a 2 s segment after 1 s ones is clean', async () => {
    // FFmpeg's HLS muxer writes the tables once, at each segment's start, and raises the target
    // duration only when a longer segment comes (here at a key frame 2 s after the last, as at a
    // looped source's seam).
    const dir = mkdtempSync(join(tmpdir(), 'sqc-long-segment-'));
    execFileSync('ffmpeg', [
      ...['-hide_banner', '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=s=320x180:r=25:d=5'],
      ...['-f', 'lavfi', '-i', 'sine=f=440:d=5', '-c:v', 'libx264', '-preset', 'ultrafast'],
      ...['-g', '250', '-sc_threshold', '0', '-force_key_frames', '0,1,2,4', '-c:a', 'aac'],
      ...['-f', 'hls', '-hls_time', '1', '-hls_list_size', '0'],
      ...['-hls_segment_filename', join(dir, 's%d.ts'), join(dir, 'live.m3u8')],
    ]);
    let listed = 2;
    const durations = [1, 1, 2, 1];
    const base = await serve((_req, res) => {
      const lines = [`#EXTM3U`, `#EXT-X-TARGETDURATION:${listed > 2 ? 2 : 1}`, '#EXT-X-MEDIA-SEQUENCE:0'];
      for (let i = 0; i < listed; i++) lines.push(`#EXTINF:${durations[i]}.000,`, `s${i}.ts`);
      res.end(`${lines.join('\n')}\n`);
    });
    const { clock, events, monitor } = await watchTransport(`${base}live.m3u8`, 'long-segment');
    const stop = cleanup;
    cleanup = async () => {
      rmSync(dir, { recursive: true, force: true });
      await stop?.();
    };
    let t = 0;
    const decode = (i: number) => {
      const body = readFileSync(join(dir, `s${i}.ts`));
      monitor.onExchange({ url: `${base}s${i}.ts`, status: 200, ms: 20, body });
      t += durations[i];
      clock.place('video', t - 0.01, 0.01);
      monitor.tick();
    };
    while (monitor.decoded.segments.size < 2) await sleep(50);
    decode(0);
    decode(1);
    listed = 4;
    while (monitor.decoded.segments.size < 4) await sleep(50);
    decode(2);
    decode(3);
    expect(events).toEqual([]);
  });
});
