/**
 * Delivery on a live 3-rendition ladder from a local origin: the worker polls every rendition's
 * playlist (HLS) or the MPD (DASH), sees the decoded rendition's segments through its proxy, and
 * samples the others' key frames. One run per format, faults in turn: a frozen rendition that is
 * not decoded, a 404 on a decoded segment, a frozen source (HLS: also a frozen decoded
 * rendition), then the packager stops.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFECT_TYPES, type DefectEvent, type DefectType, type RenditionRef } from '../../shared/events.js';
import { startHlsLadder } from '../helpers/hlsLadder.js';
import { monitorHls } from '../helpers/hlsMonitor.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

/** Every delivery and transport rule, and the content detectors named. */
const ladderTypes = (...content: DefectType[]) =>
  DEFECT_TYPES.filter((t) => t.startsWith('delivery.') || t.startsWith('transport.') || content.includes(t));

const renditionOf = (e: DefectEvent) => (e.detail.rendition as RenditionRef | undefined)?.uri ?? '';

describe('HLS delivery and the ABR ladder', () => {
  it('names the rendition of each fault and tells a frozen rendition from a frozen source', async () => {
    const ladder = await startHlsLadder(mkdtempSync(join(tmpdir(), 'streamqc-ladder-')), [
      { on: 2, from: 14, to: 24 },
      { on: 'source', from: 36, to: 46 },
      { on: 0, from: 52, to: 58 },
    ]);
    cleanups.push(() => ladder.stop());
    const events: DefectEvent[] = [];
    const arrivals: number[] = [];
    const run = await monitorHls(
      'ladder',
      ladder.url,
      ladderTypes('video.freeze', 'video.black'),
      (e) => {
        events.push(e);
        arrivals.push(Date.now());
      },
      { delivery: { quietSeconds: 4 } },
    );
    cleanups.push(() => run.stop());

    await sleep(26_000);
    // One decoded segment answered 404 (two segments past the newest listed: not yet fetched),
    // for 8 s — or, when a loaded machine keeps the monitor behind, until it has asked for it.
    const missing = ladder.segmentName(0, ladder.lastSequence(0) + 2);
    ladder.fail((name) => name === missing);
    const failedAt = Date.now();
    await sleep(8_000);
    const reported = () => events.some((e) => e.type === 'delivery.segment_error');
    for (let waited = 0; !reported() && waited < 30_000; waited += 500) await sleep(500);
    ladder.fail(undefined);
    await sleep(Math.max(20_000, 50_000 - (Date.now() - failedAt)));
    const beforeStop = events.length;
    const stoppedAt = Date.now();
    ladder.stopPackager();
    await sleep(14_000);
    await run.stop();

    const raised = events.filter((e) => e.state === 'raised');
    const summary = raised.map((e) => `${e.type} ${renditionOf(e)} ${e.detail.scope ?? ''}`);
    // Until the packager stopped: the three freezes and the 404, nothing else.
    const freezes = raised.filter((e) => e.type === 'video.freeze');
    expect(
      freezes.map((e) => [renditionOf(e), e.detail.scope]),
      summary.join('\n'),
    ).toEqual([
      [ladder.rendition(2), 'rendition'],
      [ladder.rendition(0), 'all'],
      [ladder.rendition(0), 'rendition'],
    ]);
    const segmentErrors = raised.filter((e) => e.type === 'delivery.segment_error');
    expect(segmentErrors.map(renditionOf), summary.join('\n')).toEqual([ladder.rendition(0)]);
    expect(segmentErrors[0].detail.status).toBe(404);
    const early = events.slice(0, beforeStop);
    expect(
      early.filter((e) => e.type !== 'video.freeze' && e.type !== 'delivery.segment_error'),
      summary.join('\n'),
    ).toEqual([]);
    // Each raised once and cleared once.
    for (const e of early.filter((x) => x.state === 'raised'))
      expect(early.filter((x) => x.dedupKey === e.dedupKey).map((x) => x.state)).toEqual([
        'raised',
        'cleared',
      ]);

    // The packager stopped: every rendition's playlist stale within 3 × target duration + 5 s.
    const stale = events
      .map((e, i) => ({ e, at: arrivals[i] }))
      .filter(({ e }) => e.type === 'delivery.playlist_stale' && e.state === 'raised');
    expect(stale.map(({ e }) => renditionOf(e)).sort()).toEqual(
      [0, 1, 2].map((i) => ladder.rendition(i)).sort(),
    );
    for (const { at } of stale) expect(at - stoppedAt).toBeLessThanOrEqual((3 * 2 + 5) * 1000);
  }, 150_000);

  it('reads a live DASH ladder the same way: the Representation of each fault, the scope of a freeze', async () => {
    const ladder = await startHlsLadder(
      mkdtempSync(join(tmpdir(), 'streamqc-dash-')),
      [
        { on: 2, from: 12, to: 22 },
        { on: 'source', from: 32, to: 40 },
      ],
      90,
      'dash',
    );
    cleanups.push(() => ladder.stop());
    const events: DefectEvent[] = [];
    const arrivals: number[] = [];
    const run = await monitorHls(
      'dash-ladder',
      ladder.url,
      ladderTypes('video.freeze', 'video.black'),
      (e) => {
        events.push(e);
        arrivals.push(Date.now());
      },
      { delivery: { quietSeconds: 4 } },
    );
    cleanups.push(() => run.stop());

    await sleep(24_000);
    const missing = ladder.segmentName(0, ladder.lastSequence(0) + 2);
    ladder.fail((name) => name === missing);
    await sleep(8_000);
    ladder.fail(undefined);
    await sleep(18_000);
    const beforeStop = events.length;
    const stoppedAt = Date.now();
    ladder.stopPackager();
    await sleep(13_000);
    await run.stop();

    const raised = events.filter((e) => e.state === 'raised');
    const summary = raised.map((e) => `${e.type} ${renditionOf(e)} ${e.detail.scope ?? ''}`).join('\n');
    expect(
      raised.filter((e) => e.type === 'video.freeze').map((e) => [renditionOf(e), e.detail.scope]),
      summary,
    ).toEqual([
      [ladder.rendition(2), 'rendition'],
      [ladder.rendition(0), 'all'],
    ]);
    const segmentErrors = raised.filter((e) => e.type === 'delivery.segment_error');
    expect(segmentErrors.map(renditionOf), summary).toEqual([ladder.rendition(0)]);
    expect(segmentErrors[0].detail.status).toBe(404);
    const early = events.slice(0, beforeStop);
    expect(
      early.filter((e) => e.type !== 'video.freeze' && e.type !== 'delivery.segment_error'),
      summary,
    ).toEqual([]);
    for (const e of early.filter((x) => x.state === 'raised'))
      expect(early.filter((x) => x.dedupKey === e.dedupKey).map((x) => x.state)).toEqual([
        'raised',
        'cleared',
      ]);

    // The packager stopped: the MPD stops growing, every Representation stale in time (the
    // sound's, id 3, too).
    const stale = events
      .map((e, i) => ({ e, at: arrivals[i] }))
      .filter(({ e }) => e.type === 'delivery.playlist_stale' && e.state === 'raised');
    expect(stale.map(({ e }) => renditionOf(e)).sort()).toEqual(
      [0, 1, 2, 3].map((i) => ladder.rendition(i)).sort(),
    );
    for (const { at } of stale) expect(at - stoppedAt).toBeLessThanOrEqual((3 * 2 + 5) * 1000);
  }, 150_000);

  it('decodes the lowest rendition with the sound of its own rendition group, and names each', async () => {
    const ladder = await startHlsLadder(
      mkdtempSync(join(tmpdir(), 'streamqc-sound-')),
      [{ on: 2, from: 8, to: 16 }],
      60,
      'hls-audio',
    );
    cleanups.push(() => ladder.stop());
    const events: DefectEvent[] = [];
    const run = await monitorHls(
      'sound-group',
      ladder.url,
      ladderTypes('video.freeze', 'video.missing', 'audio.missing', 'audio.silence'),
      (e) => events.push(e),
      { delivery: { quietSeconds: 4 } },
      true,
      'lowest',
    );
    cleanups.push(() => run.stop());

    await sleep(24_000);
    const beforeFault = events.length;
    // One sound segment the decoder has not fetched yet answered 404.
    const missing = ladder.segmentName(3, ladder.lastSequence(3) + 2);
    ladder.fail((name) => name === missing);
    await sleep(14_000);
    await run.stop();

    const summary = events
      .map((e) => `${e.state} ${e.type} ${renditionOf(e)} ${e.detail.scope ?? ''}`)
      .join('\n');
    // The pictures decoded are the lowest rendition's: its freeze is its own, seen by the decoder.
    const early = events.slice(0, beforeFault);
    expect(
      early.map((e) => [e.state, e.type, renditionOf(e), e.detail.scope, e.detail.seenBy]),
      summary,
    ).toEqual([
      ['raised', 'video.freeze', ladder.rendition(2), 'rendition', undefined],
      ['cleared', 'video.freeze', ladder.rendition(2), 'rendition', undefined],
    ]);
    // The sound's segment error names the sound rendition (seen through the proxy, as ffmpeg fetched it).
    const errors = events.filter((e) => e.type === 'delivery.segment_error' && e.state === 'raised');
    expect(errors.map(renditionOf), summary).toEqual([ladder.rendition(3)]);
    expect(errors[0].detail.rendition).toMatchObject({ type: 'audio', language: 'en' });
    expect(errors[0].detail.status).toBe(404);
  }, 90_000);
});
