/**
 * Opening a recorded file without ffprobe: the tracks read from ffmpeg's own description of the
 * file equal ffprobe's; the converter started on a guess is kept only when the guess was right,
 * and one taken over late loses nothing it decoded meanwhile.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { Converter, type ConverterOptions, converterArgs } from '../../../worker/converter/Converter.js';
import { tracksFromInputHeader } from '../../../worker/converter/inputHeader.js';
import { MediaClock } from '../../../worker/converter/MediaClock.js';
import { openRecorded } from '../../../worker/converter/openRecorded.js';
import { probeInput } from '../../../worker/converter/probe.js';
import type { TrackInfo } from '../../../worker/converter/types.js';
import { isAlive } from '../../helpers/processes.js';

const logger = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'streamqc-open-'));

/** A short lavfi clip: `video` (size and rate), `audio` (channels), either may be absent. */
function clip(name: string, video: { size: string; rate: string } | null, channels: number | null): string {
  const path = join(dir, name);
  const args = ['-v', 'error', '-y'];
  if (video) args.push('-f', 'lavfi', '-i', `testsrc2=s=${video.size}:r=${video.rate}:d=2`);
  if (channels) args.push('-f', 'lavfi', '-i', 'sine=f=440:r=48000:d=2', '-ac', String(channels));
  if (video) args.push('-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '2');
  if (channels) args.push('-c:a', name.endsWith('.ts') ? 'aac' : 'pcm_s16le');
  execFileSync('ffmpeg', [...args, path]);
  return path;
}

/** Processes whose command line names something in `folder`. */
function processesReading(folder: string): string[] {
  return readdirSync('/proc')
    .filter((pid) => /^\d+$/.test(pid))
    .flatMap((pid) => {
      try {
        const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
        return command.includes(folder) && !command.includes('vitest') ? [command] : [];
      } catch {
        return [];
      }
    });
}

let clips: Record<string, string>;
beforeAll(() => {
  clips = {
    ordinary: clip('ordinary.ts', { size: '640x360', rate: '25' }, 2),
    ntsc51: clip('ntsc51.ts', { size: '640x360', rate: '30000/1001' }, 6),
    wide: clip('wide.ts', { size: '1920x1080', rate: '25' }, 2),
    soundOnly: clip('sound-only.ts', null, 1),
    pictureOnly: clip('picture-only.mkv', { size: '320x180', rate: '50' }, null),
    mov71: clip('pcm71.mov', { size: '320x180', rate: '24000/1001' }, 8),
  };
  writeFileSync(join(dir, 'garbage.ts'), Buffer.alloc(50_000, 0x5a));
});

function options(
  tracks: TrackInfo,
  clock = new MediaClock({ live: false, segmented: false, outageSeconds: 3 }),
) {
  return { kind: 'file' as const, tracks, realtime: false, logger, clock, skipNonReference: true };
}
const argsFor = (source: string) => (tracks: TrackInfo) => converterArgs(source, options(tracks));

/** Both descriptions, the duration aside (ffmpeg prints it to the hundredth). */
function comparable(t: TrackInfo) {
  return { ...t, duration: t.duration === null ? null : Math.round(t.duration * 10) / 10 };
}

describe('tracks from ffmpeg’s description of a file', () => {
  it('are what ffprobe says, for every kind of recording', async () => {
    for (const path of Object.values(clips)) {
      // No output named: ffmpeg describes the input, then stops.
      const { stderr } = spawnSync(
        'ffmpeg',
        ['-hide_banner', '-nostdin', '-loglevel', 'level+info', '-i', path],
        {
          encoding: 'utf8',
        },
      );
      const fromHeader = tracksFromInputHeader(stderr.split('\n'));
      expect(fromHeader, path).not.toBeNull();
      expect(comparable(fromHeader as TrackInfo), path).toEqual(
        comparable(await probeInput(path, { kind: 'file' })),
      );
    }
  });

  it('gives no answer for what it cannot read with certainty', () => {
    const head = (stream: string) => [
      "[info] Input #0, mpegts, from 'x.ts':",
      '[info]   Duration: 00:00:10.00, start: 1.400000, bitrate: 1000 kb/s',
      `[info]   Stream #0:0[0x100]: ${stream}`,
    ];
    expect(tracksFromInputHeader(head('Audio: none ([6][0][0][0] / 0x0006), 0 channels'))).toBeNull();
    expect(tracksFromInputHeader(head('Audio: aac (LC), 48000 Hz, ambisonic 1, fltp'))).toBeNull();
    expect(tracksFromInputHeader(head('Video: none ([36][0][0][0] / 0x0024)'))).toBeNull();
    expect(
      tracksFromInputHeader(head('Video: h264 ([27][0][0][0] / 0x001B), none, 25 fps, 90k tbn')),
    ).toBeNull();
    expect(tracksFromInputHeader(['[error] x.ts: Invalid data found when processing input'])).toBeNull();
    // Read: a custom layout by its channels, a rate given only as tbr, cover art passed over.
    expect(tracksFromInputHeader(head('Audio: ac3, 48000 Hz, FL+FR+LFE, fltp'))?.audio?.channels).toBe(3);
    const cover = [
      "[info] Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'x.m4a':",
      '[info]   Duration: N/A, bitrate: N/A',
      '[info]   Stream #0:0[0x1](und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, mono, fltp, 69 kb/s (default)',
      '[info]   Stream #0:1[0x0]: Video: mjpeg (Baseline), yuvj444p(pc), 300x300 [SAR 1:1 DAR 1:1], 90k tbr, 90k tbn (attached pic)',
    ];
    expect(tracksFromInputHeader(cover)).toEqual({
      video: null,
      audio: { codec: 'aac', sampleRate: 44100, channels: 1 },
      duration: null,
      startTime: null,
      formatName: 'mov,mp4,m4a,3gp,3g2,mj2',
    });
  });
});

describe('openRecorded', () => {
  it('keeps the converter it started when the file is what it guessed, and only then', async () => {
    // The analysis picture's chain is the same at every width: a wide picture is what it guessed.
    for (const [path, width] of [
      [clips.ordinary, 640],
      [clips.wide, 1920],
    ] as const) {
      const opened = await openRecorded(argsFor(path));
      expect(opened?.tracks.video?.width).toBe(width);
      expect(opened?.started).not.toBeNull();
      opened?.started?.discard();
    }
    for (const path of [clips.soundOnly, clips.pictureOnly]) {
      const opened = await openRecorded(argsFor(path));
      expect(opened?.tracks, path).toEqual(
        await probeInput(path, { kind: 'file' }).then((t) => ({ ...t, duration: opened?.tracks.duration })),
      );
      expect(opened?.started, path).toBeNull();
    }
  });

  it('says nothing of a file ffmpeg cannot open (ffprobe words the error), and leaves no process', async () => {
    expect(await openRecorded(argsFor(join(dir, 'garbage.ts')))).toBeNull();
    expect(await openRecorded(argsFor(join(dir, 'missing.ts')))).toBeNull();
    const controller = new AbortController();
    controller.abort();
    expect((await openRecorded(argsFor(clips.ordinary), controller.signal))?.started ?? null).toBeNull();
    await new Promise((r) => setTimeout(r, 300));
    expect(processesReading(dir)).toEqual([]);
  });

  it('loses nothing while the converter it started waits to be taken', async () => {
    const run = async (late: boolean) => {
      const tracks = await probeInput(clips.ordinary, { kind: 'file' });
      const clock = new MediaClock({ live: false, segmented: false, outageSeconds: 3 });
      if (tracks.startTime !== null) clock.setOrigin(tracks.startTime);
      let converterOptions: ConverterOptions = options(tracks, clock);
      if (late) {
        const opened = await openRecorded(argsFor(clips.ordinary));
        expect(opened?.started).toBeTruthy();
        // The pipeline checks the transport meanwhile: ffmpeg is blocked on its pipes, not lost.
        await new Promise((r) => setTimeout(r, 1500));
        expect(isAlive(opened?.started?.child.pid as number)).toBe(true);
        converterOptions = { ...converterOptions, started: opened?.started ?? undefined };
      }
      const frames: number[] = [];
      const sound: number[] = [];
      const exit = await new Converter(clips.ordinary, converterOptions, {
        onVideo: (f) => frames.push(f.t),
        onAudio: (c) => sound.push(c.t, c.samples.length),
        onDecodeError: () => {},
      }).run();
      return { frames, sound, code: exit.code };
    };
    const fresh = await run(false);
    const taken = await run(true);
    expect(fresh.frames.length).toBeGreaterThan(10);
    expect(taken).toEqual(fresh);
  });
});
