/**
 * `npm run soak:transport`: a clean live MPEG-TS over UDP (a 320x180 H.264 + AAC clip longer than
 * the run, so the sender never loops) monitored with every detector for SOAK_SECONDS (default
 * 300). Any event is a false alarm. The last line is JSON.
 */
import { DEFECT_TYPES, type DefectEvent } from '../../shared/events.js';
import { freeUdpPort, UdpSender } from '../helpers/liveOrigin.js';
import { clipLongerThan, monitorUdp } from '../helpers/udpMonitor.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 300);
const port = await freeUdpPort();
const sender = new UdpSender(clipLongerThan(SECONDS), port);
const events: DefectEvent[] = [];
const pipeline = monitorUdp('soak', port, DEFECT_TYPES, (e) => {
  events.push(e);
  console.log(JSON.stringify(e));
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
