/** The converter against real ffmpeg: exact timestamps, every frame, and a child that never lingers. */
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { Converter } from '../../../worker/converter/Converter.js';
import { MediaClock } from '../../../worker/converter/MediaClock.js';
import { probeInput } from '../../../worker/converter/probe.js';
import type { AudioChunk, TrackInfo, VideoFrame } from '../../../worker/converter/types.js';
import { fixturePath, fixturesReady } from '../../fixtures/generate.js';
import { isAlive } from '../../helpers/processes.js';

// The fixture clips are made in the background (test/fixtures/globalSetup.ts).
beforeAll(() => fixturesReady(['silence.ts', 'clean.ts', 'corruption.ts', 'prog-gop-corruption.ts']));

const logger = pino({ level: 'silent' });

async function convert(source: string, options: Partial<ConstructorParameters<typeof Converter>[1]> = {}) {
  const tracks = await probeInput(source, { kind: 'file' });
  const clock = new MediaClock({ live: false, segmented: false, outageSeconds: 3 });
  if (tracks.startTime !== null) clock.setOrigin(tracks.startTime);
  const frames: VideoFrame[] = [];
  const chunks: AudioChunk[] = [];
  const converter = new Converter(
    source,
    { kind: 'file', tracks, realtime: false, logger, clock, ...options },
    {
      onVideo: (f) => frames.push({ ...f, luma: f.luma.slice(0, 16) }),
      onAudio: (c) => chunks.push(c),
      onDecodeError: () => {},
    },
  );
  return { converter, tracks, frames, chunks };
}

describe('Converter timestamps', () => {
  it('hands on every frame with its own presentation time, variable frame rate included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'streamqc-vfr-'));
    const clip = join(dir, 'vfr.mkv');
    // Frame n is shown at n*0.04 s for the first 50 frames, then every 0.1 s: a frame-rate change.
    execFileSync('ffmpeg', [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=s=320x180:r=25:d=4',
      '-vf',
      "setpts='if(lt(N,50),N*0.04,2+(N-50)*0.1)/TB'",
      '-fps_mode',
      'passthrough',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      clip,
    ]);
    const expected = execFileSync(
      'ffprobe',
      ['-v', 'error', '-select_streams', 'v', '-show_entries', 'frame=pts_time', '-of', 'csv=p=0', clip],
      { encoding: 'utf8' },
    )
      .split('\n')
      .filter((line) => /\d/.test(line))
      .map((line) => Number.parseFloat(line));

    const { converter, frames } = await convert(clip);
    await converter.run();

    expect(frames).toHaveLength(expected.length);
    for (const [i, f] of frames.entries()) expect(f.t).toBeCloseTo(expected[i] - expected[0], 3);
    expect(frames[10].duration).toBeCloseTo(expected[11] - expected[10], 3);
    expect(frames[70].duration).toBeCloseTo(expected[71] - expected[70], 3);
    expect(expected[71] - expected[70]).toBeGreaterThan(0.05);
  });

  it('delivers audio as contiguous chunks whose times advance by their length', async () => {
    const { converter, chunks } = await convert(fixturePath('silence.ts'));
    await converter.run();

    let expectedNext = chunks[0].t;
    for (const c of chunks.slice(0, 200)) {
      expect(c.t).toBeCloseTo(expectedNext, 3);
      expectedNext = c.t + c.samples.length / c.channels / c.sampleRate;
    }
    expect(chunks[0].channels).toBe(2);
    expect(chunks[0].sampleRate).toBe(48000);
  });

  it("reuses a chunk's samples only after two later chunks were handed on", async () => {
    const tracks = await probeInput(fixturePath('clean.ts'), { kind: 'file' });
    const clock = new MediaClock({ live: false, segmented: false, outageSeconds: 3 });
    if (tracks.startTime !== null) clock.setOrigin(tracks.startTime);
    // Each chunk as handed, and a copy of its samples: the two before the newest must still match.
    const handed: { samples: Float32Array; copy: Float32Array }[] = [];
    let changedTooSoon = 0;
    await new Converter(
      fixturePath('clean.ts'),
      { kind: 'file', tracks, realtime: false, logger, clock },
      {
        onVideo: () => {},
        onAudio: (c) => {
          for (const h of handed.slice(-2))
            if (!h.samples.every((v, i) => Object.is(v, h.copy[i]))) changedTooSoon++;
          handed.push({ samples: c.samples, copy: c.samples.slice() });
        },
        onDecodeError: () => {},
      },
    ).run();
    expect(handed.length).toBeGreaterThan(20);
    expect(changedTooSoon).toBe(0);
    // And reused they are: a few arrays carry the whole clip.
    expect(new Set(handed.map((h) => h.samples.buffer)).size).toBeLessThan(handed.length / 4);
  });
});

describe('Converter picture depth', () => {
  it('hands on 8-bit luma from a 10-bit source (a white 10-bit picture is not read as dark)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'streamqc-10bit-'));
    const clip = join(dir, 'white10.mkv');
    execFileSync('ffmpeg', [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'color=c=white:s=320x180:r=25:d=1',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-pix_fmt',
      'yuv420p10le',
      clip,
    ]);
    const { converter, tracks, frames } = await convert(clip);
    await converter.run();

    expect(tracks.video?.width).toBe(320);
    expect(frames.length).toBe(25);
    // x264 stores this white as 1019 of 1023; read as bytes, the 10-bit samples alternate 251 and 3.
    for (const f of frames) for (const v of f.luma) expect(v).toBeGreaterThanOrEqual(230);
  });
});

describe('Converter decode errors', () => {
  // The decoder works pictures ahead of what it hands out (reordering): an error line arrives
  // while older pictures are still to come, so it must be dated by the picture marked damaged.
  async function errorTimes(fixture: string, skipNonReference: boolean): Promise<number[]> {
    const errors: number[] = [];
    const tracks = await probeInput(fixturePath(fixture), { kind: 'file' });
    const clock = new MediaClock({ live: false, segmented: false, outageSeconds: 3 });
    if (tracks.startTime !== null) clock.setOrigin(tracks.startTime);
    const converter = new Converter(
      fixturePath(fixture),
      { kind: 'file', tracks, realtime: false, logger, clock, skipNonReference },
      { onVideo: () => {}, onAudio: () => {}, onDecodeError: (t) => errors.push(t) },
    );
    await converter.run();
    return errors;
  }

  for (const skipNonReference of [false, true]) {
    const profile = skipNonReference ? 'reference' : 'full';
    it(`dates the first error at the damaged picture (${profile} decoding)`, async () => {
      // Transport packets from about 5.0 s to 5.5 s are damaged; the first pictures lost or
      // concealed are near 4.9 s (the packets of a picture precede its display time).
      const errors = await errorTimes('corruption.ts', skipNonReference);
      expect(errors.length).toBeGreaterThan(0);
      expect(Math.min(...errors)).toBeGreaterThanOrEqual(4.75);
      expect(Math.min(...errors)).toBeLessThanOrEqual(5.2);
      expect(Math.max(...errors)).toBeLessThanOrEqual(6);
    });

    it(`dates errors that cost whole pictures at the hole they leave (${profile} decoding)`, async () => {
      // Damaged 6.0–6.4 s in a fixed GOP: the decoder drops pictures and flags none as corrupt.
      const errors = await errorTimes('prog-gop-corruption.ts', skipNonReference);
      expect(errors.length).toBeGreaterThan(0);
      expect(Math.min(...errors)).toBeGreaterThanOrEqual(5.7);
      expect(Math.max(...errors)).toBeLessThanOrEqual(6.4);
    });
  }
});

describe('Converter process lifecycle', () => {
  it('kills ffmpeg when stopped, leaving no child behind', async () => {
    const { converter, frames } = await convert(fixturePath('clean.ts'), { realtime: true });
    const done = converter.run();
    // Stopped while it decodes: after its first picture (however long a loaded machine takes).
    for (let waited = 0; frames.length === 0 && waited < 60_000; waited += 100)
      await new Promise((r) => setTimeout(r, 100));
    const pid = converter.pid!;

    converter.stop();
    const exit = await done;

    expect(exit.stopped).toBe(true);
    expect(isAlive(pid)).toBe(false);
    expect(frames.length).toBeGreaterThan(0);
  });

  it('kills an ffmpeg that stalls (a live source that never sends) after the watchdog time', async () => {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    const port = socket.address().port;
    socket.close();
    const tracks: TrackInfo = {
      video: { codec: 'h264', width: 320, height: 180, frameRate: 25 },
      audio: null,
      duration: null,
      startTime: null,
      formatName: 'mpegts',
    };
    const converter = new Converter(
      `udp://127.0.0.1:${port}`,
      {
        kind: 'udp',
        tracks,
        realtime: false,
        logger,
        stallSeconds: 1.5,
        clock: new MediaClock({ live: true, segmented: false, outageSeconds: 3 }),
      },
      { onVideo: () => {}, onAudio: () => {}, onDecodeError: () => {} },
    );

    const exit = await converter.run();

    expect(exit.stalled).toBe(true);
    expect(exit.signal).toBe('SIGKILL');
  });
});

describe('Converter: a recorded file in media-time order', () => {
  it('hands pictures and sound on interleaved by media time, however the reads fall', async () => {
    const handed: { kind: 'video' | 'audio'; t: number }[] = [];
    const source = fixturePath('clean.ts');
    const tracks = await probeInput(source, { kind: 'file' });
    const clock = new MediaClock({ live: false, segmented: false, outageSeconds: 3 });
    const converter = new Converter(
      source,
      { kind: 'file', tracks, realtime: false, logger, clock },
      {
        onVideo: (f) => handed.push({ kind: 'video', t: f.t }),
        onAudio: (c) => handed.push({ kind: 'audio', t: c.t }),
        onDecodeError: () => {},
      },
    );
    await converter.run();
    expect(handed.filter((h) => h.kind === 'video').length).toBeGreaterThan(100);
    expect(handed.filter((h) => h.kind === 'audio').length).toBeGreaterThan(50);
    const times = handed.map((h) => h.t);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('stop(true) hands on nothing the run decoded after it (a run stopped to be continued)', async () => {
    const handed: number[] = [];
    let stoppedAt: number | null = null;
    const source = fixturePath('clean.ts');
    const tracks = await probeInput(source, { kind: 'file' });
    const clock = new MediaClock({ live: false, segmented: false, outageSeconds: 3 });
    const converter: Converter = new Converter(
      source,
      { kind: 'file', tracks, realtime: false, logger, clock },
      {
        onVideo: (f) => {
          handed.push(f.t);
          if (stoppedAt === null && f.t > 3) {
            stoppedAt = f.t;
            converter.stop(true);
          }
        },
        onAudio: (c) => handed.push(c.t),
        onDecodeError: () => {},
      },
    );
    const exit = await converter.run();
    expect(exit.stopped).toBe(true);
    expect(stoppedAt).not.toBeNull();
    expect(handed.at(-1)).toBe(stoppedAt);
  });
});
