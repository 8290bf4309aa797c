/**
 * DASH ladders, one rule at a time, against a scripted origin whose "packager" adds a 1 s segment
 * to two video Representations (and one audio) every second, in a live MPD with a
 * SegmentTimeline: each fault is raised once for its Representation and cleared once after the
 * origin behaves again; the decoder is given HLS playlists of the chosen Representation.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFECT_TYPES, type DefectEvent, type RenditionRef } from '../../../shared/events.js';
import { resolveThresholds } from '../../../shared/thresholds.js';
import { MediaClock } from '../../../worker/converter/MediaClock.js';
import { isoSeconds, looksLikeMpd, parseMpd } from '../../../worker/delivery/dashManifest.js';
import { LadderMonitor, type LadderMonitorOptions } from '../../../worker/delivery/LadderMonitor.js';
import { DOCUMENTS_BASE } from '../../../worker/egress/GuardProxy.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Segment {
  number: number;
  /** Presentation time, ms. */
  t: number;
  d: number;
}

class ScriptedDashOrigin {
  segments: Segment[] = [];
  /** Representations listed (video ids). */
  listed = ['v0', 'v1'];
  /** Stop adding segments (publishTime stands still too). */
  frozen = false;
  /** Answer the MPD with 404. */
  missing = false;
  /** Answer a 1 kB MPD whose timeline implies 2^31 segments. */
  bomb = false;
  publishTime = new Date();
  private timer: NodeJS.Timeout | null = null;
  private server: Server | null = null;
  base = '';

  mpd(): string {
    const timeline = this.bomb
      ? '<S t="0" d="1000" r="2147483647"/>'
      : this.segments.map((s) => `<S t="${s.t}" d="${s.d}"/>`).join('');
    const template = `<SegmentTemplate timescale="1000" initialization="init-$RepresentationID$.mp4" media="seg-$RepresentationID$-$Number$.m4s" startNumber="${this.segments[0]?.number ?? 1}"><SegmentTimeline>${timeline}</SegmentTimeline></SegmentTemplate>`;
    const video = this.listed
      .map(
        (id, i) =>
          `<Representation id="${id}" bandwidth="${800000 - i * 500000}" width="${640 - i * 320}" height="${360 - i * 180}"/>`,
      )
      .join('');
    return `<?xml version="1.0" encoding="utf-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic" profiles="urn:mpeg:dash:profile:isoff-live:2011" minimumUpdatePeriod="PT1S" availabilityStartTime="2026-01-01T00:00:00Z" publishTime="${this.publishTime.toISOString()}" maxSegmentDuration="PT1S" minBufferTime="PT2S">
  <Period id="p0" start="PT0S">
    <AdaptationSet contentType="video" mimeType="video/mp4" segmentAlignment="true">${template}${video}</AdaptationSet>
    <AdaptationSet contentType="audio" mimeType="audio/mp4" lang="en">${template}<Representation id="a0" bandwidth="64000"/></AdaptationSet>
  </Period>
</MPD>`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const name = (req.url ?? '').slice(1);
      if (name === 'live.mpd') {
        if (this.missing) res.writeHead(404).end();
        else res.writeHead(200, { 'content-type': 'application/dash+xml' }).end(this.mpd());
        return;
      }
      res.writeHead(/^(init|seg)-/.test(name) ? 200 : 404).end(Buffer.alloc(1000));
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', () => r()));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
    for (let i = 0; i < 4; i++) this.add();
    this.timer = setInterval(() => this.add(), 1000);
  }

  /** The packager's next segment (window of 5). `gap`: it starts that many ms after the last ended. */
  add(options: { gap?: number; duration?: number } = {}): void {
    if (this.frozen) return;
    const last = this.segments[this.segments.length - 1];
    this.segments.push({
      number: (last?.number ?? 0) + 1,
      t: last ? last.t + last.d + (options.gap ?? 0) : 0,
      d: options.duration ?? 1000,
    });
    if (this.segments.length > 5) this.segments.shift();
    this.publishTime = new Date();
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

function monitorOptions(overrides: Partial<LadderMonitorOptions> = {}): LadderMonitorOptions {
  return {
    streamId: 'dash',
    security: { localMode: true, allowFiles: false, allowedNetworks: [] },
    thresholds: resolveThresholds({ delivery: { quietSeconds: 2, sampleSeconds: 1 } }),
    types: DEFECT_TYPES.filter((t) => t.startsWith('delivery.')),
    decode: 'top',
    logger: pino({ level: 'silent' }),
    clock: new MediaClock({ live: true, segmented: true, outageSeconds: 3 }),
    wallClock: () => new Date(),
    proxyObserves: false,
    documentsBase: DOCUMENTS_BASE,
    onEvent: () => {},
    ...overrides,
  };
}

/** A scripted DASH origin watched for 2.5 s (every Representation loaded) before the fault. */
async function watchScripted() {
  const origin = new ScriptedDashOrigin();
  await origin.start();
  const clock = new MediaClock({ live: true, segmented: true, outageSeconds: 3 });
  const events: DefectEvent[] = [];
  const monitor = await LadderMonitor.open(
    `${origin.base}live.mpd`,
    monitorOptions({ clock, onEvent: (e) => events.push(e) }),
  );
  if (!monitor) throw new Error('not read as DASH');
  monitor.start();
  const started = Date.now();
  const media = setInterval(() => clock.place('video', (Date.now() - started) / 1000, 0.1), 100);
  const ticks = setInterval(() => monitor.tick(), 500);
  cleanup = async () => {
    clearInterval(media);
    clearInterval(ticks);
    monitor.stop();
    await origin.stop();
  };
  await sleep(2500);
  return { origin, monitor, events };
}

const renditionOf = (e: DefectEvent) => (e.detail.rendition as RenditionRef).uri;

/** The events of one type as [state, representation id] pairs. */
function story(events: DefectEvent[], type: string): [string, string][] {
  return events.filter((e) => e.type === type).map((e) => [e.state, renditionOf(e).split('=').pop() ?? '']);
}

describe('DASH manifests', () => {
  it('reads MPD durations and tells an MPD from a playlist or media', () => {
    expect(isoSeconds('PT2S')).toBe(2);
    expect(isoSeconds('PT1M0.5S')).toBe(60.5);
    expect(isoSeconds('P1DT2H')).toBe(93600);
    expect(isoSeconds('two seconds')).toBeNull();
    expect(looksLikeMpd(Buffer.from('<?xml version="1.0"?>\n<!-- packager -->\n<MPD xmlns="x">'))).toBe(true);
    expect(looksLikeMpd(Buffer.from('<MPD type="static">'))).toBe(true);
    expect(looksLikeMpd(Buffer.from('#EXTM3U\n'))).toBe(false);
    expect(looksLikeMpd(Buffer.from('<?xml version="1.0"?><rss>'))).toBe(false);
  });

  it('numbers segments from startNumber and keeps their presentation times', () => {
    const origin = new ScriptedDashOrigin();
    for (let i = 0; i < 3; i++) origin.add();
    origin.add({ gap: 2000 });
    const mpd = parseMpd(origin.mpd(), 'http://origin.example/live/live.mpd');
    expect(mpd.dynamic).toBe(true);
    expect(mpd.maxSegmentDuration).toBe(1);
    expect(mpd.video.map((v) => v.ref)).toEqual([
      {
        uri: 'http://origin.example/live/live.mpd#representation=v0',
        bandwidth: 800000,
        resolution: '640x360',
      },
      {
        uri: 'http://origin.example/live/live.mpd#representation=v1',
        bandwidth: 300000,
        resolution: '320x180',
      },
    ]);
    expect(mpd.audio.map((a) => a.id)).toEqual(['a0']);
    expect(mpd.video[0].segments.map((s) => [s.msn, s.start, s.uri.split('/').pop()])).toEqual([
      [1, 0, 'seg-v0-1.m4s'],
      [2, 1, 'seg-v0-2.m4s'],
      [3, 2, 'seg-v0-3.m4s'],
      [4, 5, 'seg-v0-4.m4s'],
    ]);
    expect(mpd.video[0].segments[0].map).toBe('http://origin.example/live/init-v0.mp4');
    expect(() => parseMpd('<html></html>', 'http://origin.example/x.mpd')).toThrow(/not a DASH manifest/);
    // Entities a DTD declares are not expanded (no billion laughs), external ones never read.
    const hostile = `<?xml version="1.0"?><!DOCTYPE MPD [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;"><!ENTITY x SYSTEM "file:///etc/passwd">]>${origin
      .mpd()
      .replace(/^<\?xml[^>]*>/, '')
      .replace('profiles=', 'id="&b;&x;" profiles=')}`;
    expect(JSON.stringify(parseMpd(hostile, 'http://origin.example/x.mpd'))).not.toMatch(/aaaaaaaaaa|root:/);
  });

  it('refuses a 1 kB MPD that implies billions of segments, before expanding it, saying which limit', () => {
    const mpd = (inner: string, attrs = '') =>
      `<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic" availabilityStartTime="1970-01-01T00:00:00Z" minimumUpdatePeriod="PT2S" profiles="urn:mpeg:dash:profile:isoff-live:2011"${attrs}><Period id="p0" start="PT0S"><AdaptationSet mimeType="video/mp4" contentType="video"><Representation id="v0" bandwidth="1000000" width="640" height="360" codecs="avc1.64001e">${inner}</Representation></AdaptationSet></Period></MPD>`;
    const timelineBomb = mpd(
      '<SegmentTemplate timescale="1" media="s$Number$.m4s" initialization="i.mp4"><SegmentTimeline><S t="0" d="2" r="2147483647"/></SegmentTimeline></SegmentTemplate>',
    );
    const durationBomb = mpd(
      '<SegmentTemplate timescale="1000" duration="1" media="s$Number$.m4s" initialization="i.mp4"/>',
    );
    const endless = mpd(
      '<SegmentTemplate timescale="1" media="s$Number$.m4s" initialization="i.mp4"><SegmentTimeline><S t="0" d="2" r="-1"/></SegmentTimeline></SegmentTemplate>',
    );
    const heapBefore = process.memoryUsage().heapUsed;

    expect(() => parseMpd(timelineBomb, 'http://origin.example/x.mpd')).toThrow(
      /MPD refused: Representation "v0" implies 2147483648 segments \(SegmentTimeline\) \(limit 10000 segments\)/,
    );
    expect(() => parseMpd(durationBomb, 'http://origin.example/x.mpd')).toThrow(
      /MPD refused: Representation "v0" implies \d+ segments \(@duration 1\/1000 s\) \(limit 10000 segments\)/,
    );
    expect(() => parseMpd(endless, 'http://origin.example/x.mpd')).toThrow(/MPD refused/);
    // 1,000 segments is a fine timeline, but not copied into 150 Representations (150,000 in all).
    const reps = Array.from({ length: 150 }, (_, i) => `<Representation id="v${i}" bandwidth="${i + 1}"/>`);
    const fanOut = `<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT2000S" profiles="urn:mpeg:dash:profile:isoff-live:2011"><Period id="p0"><AdaptationSet mimeType="video/mp4" contentType="video"><SegmentTemplate timescale="1" media="s$Number$.m4s"><SegmentTimeline><S t="0" d="2" r="999"/></SegmentTimeline></SegmentTemplate>${reps.join('')}</AdaptationSet></Period></MPD>`;
    expect(() => parseMpd(fanOut, 'http://origin.example/x.mpd')).toThrow(
      /MPD refused: the document implies more than 100000 segments \(limit 100000 segments in all\)/,
    );
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(100 * 1024 * 1024);
    // The same 1 ms template with a 60 s time-shift window is a small live window: accepted.
    const windowed = mpd(
      '<SegmentTemplate timescale="1000" duration="2000" media="s$Number$.m4s" initialization="i.mp4"/>',
      ' timeShiftBufferDepth="PT60S"',
    );
    expect(parseMpd(windowed, 'http://origin.example/x.mpd').video[0].segments.length).toBeLessThanOrEqual(
      31,
    );
  });
});

describe('DASH delivery rules', () => {
  it('decodes the top Representation through HLS playlists it writes, and stays quiet on a healthy origin', async () => {
    const { origin, monitor, events } = await watchScripted();
    expect(monitor.decoderUrl).toBe(`${DOCUMENTS_BASE}master.m3u8`);
    // The sound the decoder reads is a rendition too: its delivery is watched the same way.
    expect(monitor.renditions.map((r) => [r.ref.uri.split('=').pop(), r.decoded])).toEqual([
      ['v0', true],
      ['v1', false],
      ['a0', true],
    ]);
    expect(monitor.renditions[2].ref).toEqual({
      uri: `${origin.base}live.mpd#representation=a0`,
      bandwidth: 64000,
      type: 'audio',
      language: 'en',
    });
    const master = monitor.document('master.m3u8') ?? '';
    expect(master).toContain('TYPE=AUDIO');
    expect(master).toContain('video.m3u8');
    const video = monitor.document('video.m3u8') ?? '';
    expect(video).toContain(`#EXT-X-MAP:URI="${origin.base}init-v0.mp4"`);
    expect(video).toMatch(/#EXT-X-MEDIA-SEQUENCE:\d+/);
    expect(video).not.toContain('#EXT-X-ENDLIST');
    expect(video.match(/seg-v0-\d+\.m4s/g)?.length).toBeGreaterThanOrEqual(4);
    expect(monitor.document('audio.m3u8')).toContain('seg-a0-');
    expect(monitor.document('../etc/passwd')).toBeNull();
    await sleep(4000);
    expect(events).toEqual([]);
  }, 20_000);

  it('is left to ffmpeg where no proxy serves the playlists', async () => {
    const origin = new ScriptedDashOrigin();
    await origin.start();
    cleanup = () => origin.stop();
    expect(
      await LadderMonitor.open(`${origin.base}live.mpd`, monitorOptions({ documentsBase: null })),
    ).toBeNull();
  });

  it('delivery.sequence: a gap in the SegmentTimeline', async () => {
    const { origin, events } = await watchScripted();
    origin.add({ gap: 3000 });
    await sleep(6000);
    expect(story(events, 'delivery.sequence')).toEqual([
      ['raised', 'v0'],
      ['raised', 'v1'],
      ['raised', 'a0'],
      ['cleared', 'v0'],
      ['cleared', 'v1'],
      ['cleared', 'a0'],
    ]);
    expect(events[0].detail.reason).toBe('timeline gap');
    expect(events[0].detail.seconds).toBe(3);
  }, 20_000);

  it('delivery.segment_duration: a segment longer than MPD@maxSegmentDuration', async () => {
    const { origin, events } = await watchScripted();
    origin.add({ duration: 2500 });
    await sleep(6000);
    expect(story(events, 'delivery.segment_duration')).toEqual([
      ['raised', 'v0'],
      ['raised', 'v1'],
      ['raised', 'a0'],
      ['cleared', 'v0'],
      ['cleared', 'v1'],
      ['cleared', 'a0'],
    ]);
  }, 20_000);

  it('delivery.variant_missing: a Representation dropped from the MPD, then listed again', async () => {
    const { origin, events } = await watchScripted();
    origin.listed = ['v0'];
    await sleep(3000);
    origin.listed = ['v0', 'v1'];
    await sleep(4000);
    expect(story(events, 'delivery.variant_missing')).toEqual([
      ['raised', 'v1'],
      ['cleared', 'v1'],
    ]);
    expect(events.filter((e) => e.type !== 'delivery.variant_missing')).toEqual([]);
  }, 20_000);

  it('delivery.variant_missing: the MPD itself cannot be loaded', async () => {
    const { origin, events } = await watchScripted();
    origin.missing = true;
    await sleep(4000);
    origin.missing = false;
    await sleep(4000);
    expect(story(events, 'delivery.variant_missing')).toEqual([
      ['raised', 'v0'],
      ['raised', 'v1'],
      ['raised', 'a0'],
      ['cleared', 'v0'],
      ['cleared', 'v1'],
      ['cleared', 'a0'],
    ]);
    expect(events[0].detail.status).toBe(404);
  }, 20_000);

  it('delivery.manifest_invalid: an MPD that turns into a bomb is refused, named once, and cleared when it is sane again', async () => {
    const { origin, events } = await watchScripted();
    origin.bomb = true;
    await sleep(3000);
    origin.bomb = false;
    await sleep(3000);
    expect(story(events, 'delivery.manifest_invalid')).toEqual([
      ['raised', 'v0'],
      ['cleared', 'v0'],
    ]);
    const raised = events.find((e) => e.type === 'delivery.manifest_invalid') as DefectEvent;
    expect(raised.detail.limit).toBe('10000 segments');
    expect(raised.detail.reason).toMatch(
      /MPD refused: Representation "v0" implies 2147483648 segments \(SegmentTimeline\)/,
    );
    expect(raised.detail.document).toBe(`${origin.base}live.mpd`);
    // Refused is not missing: the MPD loads.
    expect(events.filter((e) => e.type === 'delivery.variant_missing')).toEqual([]);
  }, 20_000);

  it('delivery.playlist_stale: the MPD stops growing for longer than 3 segment durations', async () => {
    const { origin, events } = await watchScripted();
    origin.frozen = true;
    await sleep(6000);
    origin.frozen = false;
    await sleep(4000);
    // Each Representation raised and cleared once, every raise before any clear. Which one crosses
    // the line first is a matter of a tick (sound segments run a few ms past whole durations).
    const stale = story(events, 'delivery.playlist_stale');
    const byState = (state: string) =>
      stale
        .filter(([s]) => s === state)
        .map(([, r]) => r)
        .sort();
    expect(byState('raised')).toEqual(['a0', 'v0', 'v1']);
    expect(byState('cleared')).toEqual(['a0', 'v0', 'v1']);
    expect(
      stale.slice(0, 3).every(([state]) => state === 'raised'),
      JSON.stringify(stale),
    ).toBe(true);
    expect(events.find((e) => e.type === 'delivery.playlist_stale')?.detail.publishTime).toMatch(
      /^\d{4}-\d\d-\d\dT/,
    );
  }, 25_000);
});
