/**
 * The loudness log on synthetic sound dated by wall clock: a minute file per minute with one point
 * a second, period figures and verdicts, periods aligned to the clock, a period measured from
 * part-way through marked incomplete, an outage's minute written on the tick, and a store that
 * fails never failing the stream.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { LoudnessMinute } from '../../../shared/media/loudnessLog.js';
import { FolderMediaStore, type MediaStore } from '../../../shared/media/MediaStore.js';
import type { AudioChunk } from '../../../worker/converter/types.js';
import { keepsLoudnessLog, LoudnessLog } from '../../../worker/pipeline/LoudnessLog.js';

const logger = pino({ level: 'silent' });
/** EBU Tech 3341: a 1 kHz sine at −23 dBFS in both channels reads −23 LUFS. */
const AT_23 = 10 ** (-23 / 20);
/** A period boundary (15 minutes) some time ago, on the clock. */
const BOUNDARY = Math.floor(Date.now() / 900_000) * 900_000 - 900_000;

function chunk(wallMs: number, amplitude: number): AudioChunk {
  const samples = new Float32Array(9600);
  for (let i = 0; i < 4800; i++)
    samples[2 * i] = samples[2 * i + 1] = amplitude * Math.sin((2 * Math.PI * i) / 48);
  return { t: 0, wallMs, sampleRate: 48_000, channels: 2, samples };
}

function setUp(periodMinutes = 15) {
  const dir = mkdtempSync(join(tmpdir(), 'streamqc-loudness-'));
  const store = new FolderMediaStore(dir);
  const log = new LoudnessLog({ streamId: 'st_log', standard: 'r128', periodMinutes, store, logger });
  const minute = (ms: number): LoudnessMinute => {
    const iso = new Date(ms).toISOString();
    const key = `streams/st_log/loudness/${iso.slice(0, 10)}/${iso.slice(11, 13)}-${iso.slice(14, 16)}.json`;
    return JSON.parse(readFileSync(join(dir, key), 'utf8'));
  };
  return { log, minute };
}

/** Feeds `seconds` of tone from wall time `from`, 100 ms a chunk. */
function play(log: LoudnessLog, from: number, seconds: number, amplitude: (ms: number) => number): void {
  for (let c = 0; c < seconds * 10; c++) {
    const ms = from + c * 100;
    log.sound(chunk(ms, amplitude(ms)));
  }
}

describe('LoudnessLog', () => {
  it('writes a point a second and the period so far, each minute', async () => {
    const { log, minute } = setUp();
    play(log, BOUNDARY, 150, () => AT_23);
    await log.flush();
    const first = minute(BOUNDARY);
    expect(first.points).toHaveLength(60);
    expect(first.points[0].at).toBe(new Date(BOUNDARY).toISOString());
    for (const p of first.points.slice(1))
      expect(Math.abs((p.momentaryLufs ?? 0) + 23)).toBeLessThanOrEqual(0.1);
    for (const p of first.points.slice(3))
      expect(Math.abs((p.shortTermLufs ?? 0) + 23)).toBeLessThanOrEqual(0.1);
    for (const p of first.points.slice(1))
      expect(Math.abs((p.truePeakDbtp ?? 0) + 23)).toBeLessThanOrEqual(0.1);
    const third = minute(BOUNDARY + 120_000);
    expect(third.points).toHaveLength(30);
    expect(third.period).toMatchObject({
      from: new Date(BOUNDARY).toISOString(),
      to: new Date(BOUNDARY + 900_000).toISOString(),
      measuredFrom: new Date(BOUNDARY).toISOString(),
      standard: 'EBU R128',
      integratedLufs: -23,
      rangeLu: 0,
      truePeakDbtp: -23,
      compliant: true,
      reasons: [],
      complete: false,
    });
    expect(third.period.seconds).toBe(150);
  });

  it('closes a period at its clock boundary: complete, judged, and the next measured afresh', async () => {
    const { log, minute } = setUp();
    // Too loud (−17 LUFS) for the first period's last 40 s; then −23 into the next.
    const loud = 10 ** (-17 / 20);
    play(log, BOUNDARY + 860_000, 80, (ms) => (ms < BOUNDARY + 900_000 ? loud : AT_23));
    await log.flush();
    const last = minute(BOUNDARY + 840_000).period;
    expect(last.measuredFrom).toBe(new Date(BOUNDARY + 860_000).toISOString());
    expect(last.complete).toBe(false);
    expect(last.integratedLufs).toBe(-17);
    expect(last.compliant).toBe(false);
    expect(last.reasons).toEqual(['integrated -17.0 LUFS, outside -23 ± 1']);
    const next = minute(BOUNDARY + 900_000).period;
    expect(next.from).toBe(new Date(BOUNDARY + 900_000).toISOString());
    expect(next.integratedLufs).toBe(-23);
    expect(next.truePeakDbtp).toBe(-23);
    expect(next.compliant).toBe(true);
  });

  it('marks a period measured from its first second to its last complete', async () => {
    const { log, minute } = setUp();
    play(log, BOUNDARY, 15 * 60 + 5, () => AT_23);
    await log.flush();
    const period = minute(BOUNDARY + 840_000).period;
    expect(period.complete).toBe(true);
    expect(period.seconds).toBe(900);
  });

  it('writes the minute an outage ended on the tick, not when sound returns', () => {
    const { log, minute } = setUp();
    play(log, BOUNDARY, 30, () => AT_23);
    expect(() => minute(BOUNDARY)).toThrow();
    log.tick(BOUNDARY + 61_000);
    return log.flush().then(() => expect(minute(BOUNDARY).points).toHaveLength(30));
  });

  it('writes the minute so far every 20 s while it fills, for the API to show the last seconds', async () => {
    const { log, minute } = setUp();
    play(log, BOUNDARY, 10, () => AT_23);
    log.tick(BOUNDARY + 10_000);
    await log.written();
    // Not yet: 20 s of the minute have not passed.
    expect(() => minute(BOUNDARY)).toThrow();
    play(log, BOUNDARY + 10_000, 20, () => AT_23);
    log.tick(BOUNDARY + 30_000);
    await log.written();
    // The seconds closed so far (the 30th is still open).
    expect(minute(BOUNDARY).points).toHaveLength(29);
  });

  it('logs a store that fails and goes on', async () => {
    const warnings: string[] = [];
    const failing: MediaStore = {
      put: async () => {
        throw new Error('503 Slow Down');
      },
      read: async () => null,
      bytes: async () => null,
    };
    const log = new LoudnessLog({
      streamId: 'st_log',
      standard: 'a85',
      periodMinutes: 15,
      store: failing,
      logger: { warn: (o: { err: string }) => warnings.push(o.err) } as unknown as typeof logger,
    });
    play(log, BOUNDARY, 70, () => AT_23);
    await log.flush();
    expect(warnings).toEqual(['503 Slow Down', '503 Slow Down']);
  });

  it('is kept by the unit that runs audio.loudness, and only when asked for', () => {
    const units = [
      { group: 'video', detectors: ['video.black'] },
      { group: 'sound', detectors: ['audio.silence', 'audio.loudness'] },
    ];
    expect(keepsLoudnessLog({ units }, 'sound')).toBe(false);
    expect(keepsLoudnessLog({ loudness: { standard: 'r128' }, units }, 'sound')).toBe(true);
    expect(keepsLoudnessLog({ loudness: { standard: 'r128' }, units }, 'video')).toBe(false);
    expect(keepsLoudnessLog({ loudness: {}, units: [units[0]] }, 'video')).toBe(true);
  });
});
