/**
 * `npm run soak:hls`: a healthy live 3-rendition HLS ladder from a local origin (2 s segments,
 * sliding window of 6) monitored with every detector for SOAK_SECONDS (default 300): the decoded
 * rendition through the guard proxy, the other two by playlist polls and sampled key frames. Any
 * event is a false alarm. SOAK_FORMAT=dash packages the same ladder as live DASH, SOAK_FORMAT=hls-audio as HLS with
 * its sound in an audio rendition group of its own. The last line
 * is JSON.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFECT_TYPES, type DefectEvent } from '../../shared/events.js';
import { startHlsLadder } from '../helpers/hlsLadder.js';
import { monitorHls } from '../helpers/hlsMonitor.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 300);
const FORMATS = ['hls', 'hls-audio', 'dash'] as const;
const FORMAT = FORMATS.find((f) => f === process.env.SOAK_FORMAT) ?? 'hls';
const ladder = await startHlsLadder(mkdtempSync(join(tmpdir(), 'streamqc-soak-')), [], SECONDS + 60, FORMAT);
const events: DefectEvent[] = [];
console.log(
  `# ${FORMAT.toUpperCase()} ladder soak — ${new Date().toISOString()}, ${SECONDS} s of a healthy ladder, every detector`,
);
const run = await monitorHls('soak', ladder.url, DEFECT_TYPES, (e) => {
  events.push(e);
  console.log(JSON.stringify(e));
});
await new Promise((r) => setTimeout(r, SECONDS * 1000));
const mediaSeconds = Math.round(run.pipeline.currentMediaTime * 10) / 10;
await run.stop();
await ladder.stop();
console.log(
  JSON.stringify({
    format: FORMAT,
    seconds: SECONDS,
    mediaSeconds,
    events: events.length,
    deliveryEvents: events.filter((e) => e.type.startsWith('delivery.')).length,
  }),
);
process.exit(0);
