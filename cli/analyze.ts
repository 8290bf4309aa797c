/** `streamqc analyze <file-or-url>`: every detector over one input, one JSON event per incident. */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { isDecodeProfile } from '../shared/decodeProfile.js';
import {
  DEFAULT_DETECTORS,
  DEFECT_TYPES,
  type DefectEvent,
  type DefectType,
  OPT_IN_TYPES,
} from '../shared/events.js';
import { LOUDNESS_STANDARDS, type LoudnessStandard } from '../shared/loudnessStandards.js';
import { resolveThresholds } from '../shared/thresholds.js';
import { isLiveKind, sourceKind } from '../worker/converter/sourceKind.js';
import type { AudioChunk } from '../worker/converter/types.js';
import { StreamPipeline } from '../worker/pipeline/StreamPipeline.js';
import { createDeferredLogger } from './deferredLogger.js';
import { clock, formatEvent } from './formatEvent.js';
import { formatLoudness, ProgrammeLoudness } from './loudnessSummary.js';
import { parseThresholdFlags, UsageError } from './parseThresholdFlags.js';
import { formatTransport } from './transportSummary.js';

export const ANALYZE_HELP = `Usage: streamqc analyze [options] <file-or-url>

Decodes the input (a file as fast as it can, a live URL in real time), runs the defect
detectors and prints one JSON event per incident on stdout. Logs go to stderr.

Options:
  --detectors LIST     comma-separated defect types (default: all but ${OPT_IN_TYPES.join(', ')})
                       ${DEFECT_TYPES.join(', ')}
  --threshold R.K=V    override a rule, repeatable, e.g. --threshold black.minDuration=2
                       --threshold loudness.targetLufs=-24 --threshold desync.audioLateMs=100
  --expect LIST        what the input must carry: audio,video (default), one of them, or with
                       captions too (closed captions in an MPEG-TS video: captions.missing)
  --format FMT         json (default, NDJSON) or text
  --name NAME          streamId in events (default: the input's file name)
  --realtime           read at native speed even for a file
  --no-realtime        read a URL as fast as it arrives
  --threads N          decoder threads (default 1: cheapest per stream)
  --decode PROFILE     reference (default: only the pictures others are predicted from, the
                       cheaper; accuracy measured by npm run eval) or full (every picture);
                       default $STREAMQC_DECODE_PROFILE, else reference
  --loudness STD       after the events, the programme's loudness and its compliance with
                       r128 (EBU R128: −23 LUFS ± 1, true peak ≤ −1 dBTP) or a85 (ATSC A/85:
                       −24 LKFS ± 2, ≤ −2 dBTP): integrated loudness, loudness range, true peak
  --transport          after the events, a transport stream file's TR 101 290 report: packets,
                       continuity errors, missing and duplicate packets per PID, PCR interval,
                       rate and accuracy (2.4, on constant-rate streams)
  --verbose            info-level logs on stderr
  -h, --help           this help

Exit status: 0 when the input was analysed (whatever it contained), 1 when it could not be
read, 2 for a usage error.`;

/** Runs the analyze command; returns the exit status. */
export async function analyzeCommand(argv: string[]): Promise<number> {
  let values: ReturnType<typeof parse>['values'];
  let positionals: string[];
  try {
    ({ values, positionals } = parse(argv));
  } catch (e) {
    process.stderr.write(`streamqc analyze: ${(e as Error).message}\n\n${ANALYZE_HELP}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${ANALYZE_HELP}\n`);
    return 0;
  }
  let detectors: DefectType[];
  let thresholds: ReturnType<typeof resolveThresholds>;
  let expect: { audio: boolean; video: boolean; captions?: boolean };
  try {
    if (positionals.length !== 1) throw new UsageError('expected exactly one input (a file path or a URL)');
    detectors = parseDetectors(values.detectors);
    thresholds = resolveThresholds(await parseThresholdFlags(values.threshold ?? []));
    expect = parseExpect(values.expect);
    if (values.format && values.format !== 'json' && values.format !== 'text') {
      throw new UsageError(`--format ${values.format}: expected json or text`);
    }
    if (values.loudness !== undefined && !(values.loudness in LOUDNESS_STANDARDS))
      throw new UsageError(`--loudness ${values.loudness}: expected r128 or a85`);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`streamqc analyze: ${e.message}\n`);
    return 2;
  }
  const source = positionals[0];
  const kind = sourceKind(source);
  if (!kind) {
    process.stderr.write(`streamqc analyze: ${source}: unsupported protocol\n`);
    return 1;
  }
  const live = isLiveKind(kind);
  const streamId = values.name ?? (basename(source.split('?')[0]) || source);
  if (!process.env.STREAMQC_LOG_LEVEL) process.env.STREAMQC_LOG_LEVEL = values.verbose ? 'info' : 'warn';
  const logger = createDeferredLogger('streamqc-analyze').child({ streamId });
  const text = values.format === 'text';
  const showProgress = process.stderr.isTTY && !live;
  let lastProgress = 0;
  const write = (event: DefectEvent) => {
    if (event.state !== 'cleared') return;
    process.stdout.write(`${text ? formatEvent(event) : JSON.stringify(event)}\n`);
  };
  const decodeProfile = values.decode ?? process.env.STREAMQC_DECODE_PROFILE ?? 'reference';
  if (!isDecodeProfile(decodeProfile)) {
    process.stderr.write(`streamqc analyze: --decode must be full or reference, not ${decodeProfile}\n`);
    return 2;
  }
  // STREAMQC_STAGE_REPORT=1 (the analyze benchmark): where the CPU went, as one JSON line on stderr.
  const stageTimes = process.env.STREAMQC_STAGE_REPORT === '1' ? new Map<string, number>() : null;
  const loudness = values.loudness ? new ProgrammeLoudness(values.loudness as LoudnessStandard) : null;
  const pipeline = new StreamPipeline({
    streamId,
    source,
    kind,
    live,
    realtime: values['no-realtime'] ? false : Boolean(values.realtime) || kind === 'http',
    thresholds,
    detectors,
    expect,
    logger,
    onEvent: write,
    threads: values.threads ? Number(values.threads) : 1,
    decodeProfile,
    ...(stageTimes ? { stageTimes } : {}),
    ...(loudness ? { onSound: (chunk: AudioChunk) => loudness.sound(chunk) } : {}),
    onProgress: showProgress
      ? (t, tracks) => {
          const now = Date.now();
          if (now - lastProgress < 250) return;
          lastProgress = now;
          const total = tracks.duration ? ` / ${clock(tracks.duration)}` : '';
          process.stderr.write(`\r${clock(t)}${total} analysed`);
        }
      : undefined,
  });
  const stop = () => pipeline.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const result = await pipeline.runOnce();
  if (showProgress) process.stderr.write('\r\x1b[K');
  if (result.error) {
    process.stderr.write(`streamqc analyze: ${result.error.message}\n`);
    return 1;
  }
  const exit = result.exit;
  if (exit && !exit.stopped && exit.code !== 0 && result.frames === 0 && result.audioChunks === 0) {
    process.stderr.write(
      `streamqc analyze: ${source}: ffmpeg could not decode it: ${exit.lastError ?? 'no detail'}\n`,
    );
    return 1;
  }
  if (exit?.stalled) logger.warn('input stalled; reporting what was decoded');
  pipeline.finish();
  if (loudness) {
    const summary = loudness.summary();
    process.stdout.write(
      `${text ? formatLoudness(summary) : JSON.stringify({ streamId, loudness: summary })}\n`,
    );
  }
  if (values.transport) {
    const report = pipeline.transportReport;
    process.stdout.write(
      `${text ? formatTransport(report) : JSON.stringify({ streamId, transport: report })}\n`,
    );
  }
  if (stageTimes) process.stderr.write(`${JSON.stringify(stageReport(stageTimes))}\n`);
  return 0;
}

/**
 * CPU of this process and of the children it waited for (ffprobe and ffmpeg: cutime and cstime
 * of /proc/self/stat count children once reaped), and the detectors' own time.
 */
function stageReport(times: Map<string, number>) {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = 100;
  const children = (Number(fields[13]) + Number(fields[14])) / ticks;
  const own = process.cpuUsage();
  return {
    stageReport: true,
    childrenCpuSeconds: children,
    nodeCpuSeconds: (own.user + own.system) / 1e6,
    detectorSeconds: Object.fromEntries([...times].map(([k, ms]) => [k, Math.round(ms) / 1000])),
  };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      detectors: { type: 'string' },
      threshold: { type: 'string', multiple: true },
      expect: { type: 'string' },
      format: { type: 'string' },
      name: { type: 'string' },
      realtime: { type: 'boolean' },
      'no-realtime': { type: 'boolean' },
      threads: { type: 'string' },
      decode: { type: 'string' },
      verbose: { type: 'boolean' },
      loudness: { type: 'string' },
      transport: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function parseDetectors(list: string | undefined): DefectType[] {
  if (!list) return [...DEFAULT_DETECTORS];
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of names) {
    if (!(DEFECT_TYPES as readonly string[]).includes(name)) {
      throw new UsageError(`--detectors: unknown defect type ${name}; known: ${DEFECT_TYPES.join(', ')}`);
    }
  }
  return names as DefectType[];
}

function parseExpect(list: string | undefined): { audio: boolean; video: boolean; captions?: boolean } {
  if (!list) return { audio: true, video: true };
  const names = list.split(',').map((s) => s.trim());
  for (const name of names) {
    if (!['audio', 'video', 'captions', 'none'].includes(name)) {
      throw new UsageError(`--expect ${name}: expected audio, video, captions or none`);
    }
  }
  return {
    audio: names.includes('audio'),
    video: names.includes('video'),
    ...(names.includes('captions') ? { captions: true } : {}),
  };
}
