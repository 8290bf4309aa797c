/**
 * When av.desync asks for every picture: a sync signal whose one-picture flashes fall on pictures
 * the reference profile skips, and an offset known only to a range that matters. Synthetic
 * pictures (every third decoded, as with two B pictures between references) and sound.
 */
import { describe, expect, it } from 'vitest';
import { resolveThresholds } from '../../../shared/thresholds.js';
import type { AudioChunk, VideoFrame } from '../../../worker/converter/types.js';
import { DesyncDetector } from '../../../worker/detectors/DesyncDetector.js';
import type { Observation } from '../../../worker/detectors/types.js';

const RATE = 48_000;
const FPS = 25;
const W = 64;
const H = 16;

function picture(n: number, bright: boolean): VideoFrame {
  return {
    t: n / FPS,
    wallMs: 0,
    duration: 1 / FPS,
    interval: 1 / FPS,
    width: W,
    height: H,
    luma: new Uint8Array(W * H).fill(bright ? 235 : 60),
    fullRange: false,
    pictType: 'P',
    scale: 1,
    rowStep: 1,
  } as VideoFrame;
}

/** 100 ms of a low tone with a 40 ms 1 kHz beep wherever `beepAt` says. */
function sound(t: number, beepAt: (time: number) => boolean): AudioChunk {
  const n = RATE / 10;
  const samples = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const time = t + i / RATE;
    const v =
      0.03 * Math.sin(2 * Math.PI * 400 * time) +
      (beepAt(time) ? 0.5 * Math.sin(2 * Math.PI * 1000 * time) : 0);
    samples[2 * i] = v;
    samples[2 * i + 1] = v;
  }
  return { t, wallMs: 0, sampleRate: RATE, channels: 2, samples };
}

/**
 * Runs `seconds` of a signal whose flash is picture 50·k and whose beep starts offsetMs later;
 * `decoded(n)` says which pictures the decoder hands on. Returns the asks and the observations.
 */
function run(offsetMs: number, decoded: (n: number) => boolean, period = 2) {
  const seconds = 16;
  const asks: string[] = [];
  const seen: Observation[] = [];
  const detector = new DesyncDetector({
    thresholds: resolveThresholds(),
    emit: (o) => seen.push(o),
    live: false,
    expect: { audio: true, video: true },
    decodeEveryPicture: (reason) => asks.push(reason),
  });
  const shift = offsetMs / 1000;
  const beepAt = (time: number) => time - shift >= 0 && (time - shift) % period < 0.04;
  for (let step = 0; step < seconds * 10; step++) {
    detector.onAudio(sound(step / 10, beepAt));
    for (let n = Math.ceil(step * 2.5); n < (step + 1) * 2.5; n++)
      if (decoded(n)) detector.onVideo(picture(n, n % 50 === 0));
  }
  return { asks, seen };
}

describe('av.desync asking for every picture', () => {
  it('asks once when a sync signal flashes on pictures that are not decoded', () => {
    // References every third picture, none of them a multiple of 50 after the first.
    const { asks, seen } = run(-200, (n) => n % 3 === 1 || n === 0);
    expect(asks).toHaveLength(1);
    expect(asks[0]).toMatch(/sync signal \(a beep every 2\.00 s\)/);
    expect(seen.some((o) => o.active)).toBe(false);
  });

  it('does not ask when the flashes are decoded, and measures the offset to the sample', () => {
    const { asks, seen } = run(-200, () => true);
    expect(asks).toEqual([]);
    const raised = seen.filter((o) => o.active);
    expect(raised.length).toBeGreaterThan(0);
    for (const o of raised) expect(Math.abs(Number(o.detail?.offsetMs) + 200)).toBeLessThanOrEqual(1);
  });

  it('does not ask for a beat at music tempo (beeps every 0.5 s) without flashes', () => {
    const { asks } = run(0, (n) => n % 3 === 1, 0.5);
    expect(asks).toEqual([]);
  });
});
