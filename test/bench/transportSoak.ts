/**
 * `npm run soak:transport`: a clean live MPEG-TS over UDP (a 320x180 H.264 + AAC clip longer than
 * the run, so the sender never loops) monitored with every detector for SOAK_SECONDS (default
 * 300). Any event is a false alarm. The last line is JSON.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { DEFECT_TYPES, type DefectEvent } from '../../shared/events.js';
import { resolveThresholds } from '../../shared/thresholds.js';
import { StreamPipeline } from '../../worker/pipeline/StreamPipeline.js';
import { makeClip } from '../helpers/clips.js';
import { freeUdpPort, UdpSender } from '../helpers/liveOrigin.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 300);
const clip = join(mkdtempSync(join(tmpdir(), 'streamqc-soak-')), 'source.ts');
makeClip(clip, SECONDS + 30);
const port = await freeUdpPort();
const sender = new UdpSender(clip, port);
const events: DefectEvent[] = [];
const pipeline = new StreamPipeline({
  streamId: 'soak',
  source: `udp://127.0.0.1:${port}`,
  kind: 'udp',
  live: true,
  realtime: false,
  thresholds: resolveThresholds(),
  detectors: [...DEFECT_TYPES],
  expect: { audio: true, video: true },
  logger: pino({ level: 'silent' }),
  onEvent: (e) => {
    events.push(e);
    console.log(JSON.stringify(e));
  },
});
console.log(`# transport soak — ${new Date().toISOString()}, ${SECONDS} s of clean UDP, every detector`);
sender.start();
const running = pipeline.runOnce();
await new Promise((r) => setTimeout(r, SECONDS * 1000 + 5000));
pipeline.stop();
await running;
sender.stop();
console.log(
  JSON.stringify({
    seconds: SECONDS,
    mediaSeconds: Math.round(pipeline.currentMediaTime * 10) / 10,
    events: events.length,
    transportEvents: events.filter((e) => e.type.startsWith('transport.')).length,
  }),
);
process.exit(0);
