/**
 * `npm run bench:transport`: what the worker's own transport stream reading costs. Feeds the 60 s
 * 720p25 bench clip through the TR 101 290 checks in 1316-byte datagrams, and through the whole
 * UDP tap (receive, check, relay to a loopback port), and reports CPU per second of a 20 Mb/s
 * stream against the CPU of decoding the same clip with FFmpeg. The last line is JSON.
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { TsAnalyzer } from '../../worker/transport/TsAnalyzer.js';
import { UdpTap } from '../../worker/transport/UdpTap.js';
import { freeUdpPort } from '../helpers/liveOrigin.js';
import { ROOT } from '../helpers/runCli.js';
import { measure } from './measure.js';

const CLIP = join(ROOT, 'test', '.fixtures', 'bench-720p25-60s.ts');
const DATAGRAM = 1316;
const RATE = 20e6 / 8;

let bytes: Buffer;
try {
  bytes = readFileSync(CLIP);
} catch {
  console.error(`${CLIP} is missing: run npm run bench:analyze once to encode it`);
  process.exit(1);
}
const mediaSeconds = 60;

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

// The checks alone, 5 passes.
const analyzer = new TsAnalyzer();
let before = cpuMs();
for (let pass = 0; pass < 5; pass++) {
  for (let o = 0; o < bytes.length; o += DATAGRAM) analyzer.push(bytes.subarray(o, o + DATAGRAM), o / 1e4);
}
const checksMsPerMB = (cpuMs() - before) / ((5 * bytes.length) / 1e6);

// The whole tap: datagrams sent to it over loopback, checked and relayed to a sink.
const port = await freeUdpPort();
const tap = await UdpTap.open(`udp://127.0.0.1:${port}`, pino({ level: 'silent' }));
const sink = createSocket('udp4');
let relayed = 0;
sink.on('message', () => relayed++);
await new Promise<void>((r) => sink.bind(Number(new URL(tap.url).port), '127.0.0.1', () => r()));
const sender = createSocket('udp4');
const total = Math.floor(bytes.length / DATAGRAM);
before = cpuMs();
for (let i = 0; i < total; i++) {
  sender.send(bytes.subarray(i * DATAGRAM, (i + 1) * DATAGRAM), port, '127.0.0.1');
  if (i % 200 === 199) await new Promise((r) => setTimeout(r, 2));
}
const started = Date.now();
while (relayed < total * 0.99 && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 50));
// Sending and receiving in one process: half the loopback cost is the sender's.
const tapMsPerMB = (cpuMs() - before) / (bytes.length / 1e6);
tap.close();
sink.close();
sender.close();

const decode = await measure(['ffmpeg', '-v', 'error', '-threads', '1', '-i', CLIP, '-f', 'null', '-']);
const decodeMsPerSecond = (decode.cpuSeconds * 1000) / mediaSeconds;
const mbPerSecond20 = RATE / 1e6;
const checksMs = checksMsPerMB * mbPerSecond20;
const tapMs = tapMsPerMB * mbPerSecond20;
console.log(`# transport reading — ${new Date().toISOString()}`);
console.log(
  `clip ${CLIP} (${(bytes.length / 1e6).toFixed(1)} MB, ${mediaSeconds} s); relayed ${relayed} of ${total} datagrams`,
);
console.log(
  `TR 101 290 checks: ${checksMsPerMB.toFixed(2)} ms CPU per MB → ${checksMs.toFixed(1)} ms per second at 20 Mb/s`,
);
console.log(
  `whole tap (send + receive + check + relay over loopback): ${tapMsPerMB.toFixed(2)} ms per MB → ${tapMs.toFixed(1)} ms per second at 20 Mb/s`,
);
console.log(
  `decoding this 3 Mb/s 720p25 clip single-threaded: ${decodeMsPerSecond.toFixed(0)} ms per second`,
);
console.log(
  JSON.stringify({
    checksMsPerSecondAt20Mbps: Math.round(checksMs * 10) / 10,
    tapMsPerSecondAt20Mbps: Math.round(tapMs * 10) / 10,
    decodeMsPerSecond720p: Math.round(decodeMsPerSecond),
    checksVsDecode: Math.round((checksMs / decodeMsPerSecond) * 1000) / 1000,
  }),
);
process.exit(0);
