/**
 * video.slate: a programme that cuts to its slate (colour bars, held 5 s) and back, encoded as
 * H.264 and decoded by the real pipeline; the slate registered as a PNG. The slate is reported
 * where it is on screen; another picture registered as the slate is not it; a picture that cannot
 * be decoded is logged and changes nothing. (On a live stream the Inhibitor then holds black,
 * freeze and silence back: test/worker/alarms/inhibitor.test.ts.)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DefectEvent, DefectType } from '../../../shared/events.js';
import { slateType, streamSpecSchema } from '../../../shared/streamSpec.js';
import { resolveThresholds } from '../../../shared/thresholds.js';
import { StreamPipeline } from '../../../worker/pipeline/StreamPipeline.js';

const dir = mkdtempSync(join(tmpdir(), 'streamqc-slate-'));
const clip = join(dir, 'programme.ts');
let bars = '';
let other = '';

/** One picture of a lavfi source as a small PNG, in base64. */
function png(source: string): string {
  const out = join(dir, `${bars ? 'other' : 'bars'}.png`);
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', source, '-frames:v', '1', out]);
  return readFileSync(out).toString('base64');
}

beforeAll(() => {
  bars = png('smptebars=s=160x90');
  other = png('color=c=0x3050a0:s=160x90');
  const part = (source: string, seconds: number) =>
    `${source}=s=320x180:r=25:d=${seconds},format=yuv420p,setsar=1`;
  execFileSync('ffmpeg', [
    ...['-v', 'error', '-y', '-f', 'lavfi', '-i'],
    `${part('testsrc2', 4)}[a];${part('smptebars', 5)}[b];${part('testsrc2', 3)}[c];[a][b][c]concat=n=3:v=1:a=0[out0]`,
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-f', 'mpegts', clip],
  ]);
});

async function analyse(slate: string | undefined, detectors: DefectType[] = ['video.slate', 'video.freeze']) {
  const events: DefectEvent[] = [];
  const warnings: string[] = [];
  const logger = pino(
    { level: 'warn' },
    {
      write: (line: string) => {
        const { msg, err } = JSON.parse(line);
        warnings.push(`${msg}: ${err}`);
      },
    },
  );
  const pipeline = new StreamPipeline({
    streamId: 'st_slate',
    source: clip,
    kind: 'file',
    live: false,
    realtime: false,
    thresholds: resolveThresholds(),
    detectors,
    expect: { audio: false, video: true },
    logger,
    onEvent: (e) => events.push(e),
    ...(slate ? { slate } : {}),
  });
  await pipeline.runOnce();
  pipeline.finish();
  await pipeline.settled();
  return { events, warnings };
}

describe('video.slate', () => {
  it('accepts a PNG or JPEG slate at registration and refuses anything else', () => {
    expect(slateType(bars)).toBe('image/png');
    const spec = { url: 'udp://127.0.0.1:5000' };
    expect(streamSpecSchema.safeParse({ ...spec, slate: bars }).success).toBe(true);
    expect(
      streamSpecSchema.safeParse({ ...spec, slate: Buffer.from('GIF89a').toString('base64') }).success,
    ).toBe(false);
    expect(streamSpecSchema.safeParse({ ...spec, slate: 'not base64!' }).success).toBe(false);
  });

  it('is raised while the slate is on screen and cleared when the programme comes back', async () => {
    const { events } = await analyse(bars);
    const slate = events.filter((e) => e.type === 'video.slate');
    expect(
      slate.map((e) => e.state),
      JSON.stringify(events),
    ).toEqual(['raised', 'cleared']);
    expect(slate[1].start).toBeGreaterThanOrEqual(3.9);
    expect(slate[1].start).toBeLessThanOrEqual(4.2);
    expect(slate[1].end).toBeGreaterThanOrEqual(8.8);
    expect(slate[1].end).toBeLessThanOrEqual(9.2);
    expect(slate[0].severity).toBe('info');
    // A file has no inhibitor: the held picture is a freeze too (a live stream holds it back).
    expect(events.filter((e) => e.type === 'video.freeze' && e.state === 'raised')).toHaveLength(1);
  });

  it('is not raised for a slate that is not what the stream shows, nor without one', async () => {
    expect((await analyse(other)).events.filter((e) => e.type === 'video.slate')).toEqual([]);
    expect((await analyse(undefined)).events.filter((e) => e.type === 'video.slate')).toEqual([]);
  });

  it('logs a slate that cannot be decoded and goes on', async () => {
    const broken = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47]), Buffer.alloc(64, 7)]).toString(
      'base64',
    );
    const { events, warnings } = await analyse(broken);
    expect(events.filter((e) => e.type === 'video.slate')).toEqual([]);
    expect(warnings.some((w) => /slate not used: the slate picture cannot be decoded/.test(w))).toBe(true);
  });
});
