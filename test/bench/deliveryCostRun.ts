/**
 * One measured run of `npm run bench:delivery` (its own process, so the parent can read the CPU
 * it and its ffmpeg children used): monitors an HLS or DASH URL for SECONDS, with or without the delivery
 * monitor, then prints the media seconds decoded.
 */
import { DEFECT_TYPES } from '../../shared/events.js';
import { monitorHls } from '../helpers/hlsMonitor.js';

const [mode, url, seconds] = process.argv.slice(2);
const withDelivery = mode === 'with';
const detectors = withDelivery ? DEFECT_TYPES : DEFECT_TYPES.filter((t) => !t.startsWith('delivery.'));
let events = 0;
const run = await monitorHls('bench', url, detectors, () => events++, {}, withDelivery);
const finish = async () => {
  const mediaSeconds = Math.round(run.pipeline.currentMediaTime);
  await run.stop();
  console.log(JSON.stringify({ mode, mediaSeconds, events }));
  process.exit(0);
};
// The benchmark stops the run with SIGINT once it has measured it.
process.on('SIGINT', () => void finish());
setTimeout(() => void finish(), Number(seconds) * 1000);
