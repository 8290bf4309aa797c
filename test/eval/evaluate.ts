/**
 * `npm run eval`: scores the detectors on every fixture against its ground truth, through the real
 * `streamqc analyze` command: precision, recall and F1 per defect type, onset error, and the sync
 * offset error. One clip is also served as live HLS by a local origin (2 s EVENT and 6 s sliding
 * window playlists) and analysed as it arrives. Writes the table into docs/detection.md between the eval
 * markers (unless --no-write) and ends with a JSON summary line. A held-out set of clips is scored
 * the same way by outside checks.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DefectEvent, DefectType } from '../../shared/events.js';
import { analyzeArgs, type ExpectedIncident, FIXTURES, type Fixture } from '../fixtures/fixtures.js';
import { fixturePath, generateFixtures } from '../fixtures/generate.js';
import { startHlsOrigin } from '../helpers/liveOrigin.js';
import { events, ROOT, runCli } from '../helpers/runCli.js';
import { scoreFixture, summarize, type TypeScore } from './score.js';

const write = !process.argv.includes('--no-write');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7);

/** The live fixtures: a fixture clip packaged as live HLS at real time by a local origin. */
const LIVE = [
  { clip: 'live-source.ts', segmentSeconds: 2, playlist: 'event' as const },
  { clip: 'live-source.ts', segmentSeconds: 6, playlist: 'sliding' as const },
];

async function analyze(fixture: Fixture): Promise<DefectEvent[]> {
  const result = await runCli(analyzeArgs(fixture, fixturePath(fixture.name)));
  if (result.code !== 0) throw new Error(`analyze ${fixture.name} failed: ${result.stderr.slice(-500)}`);
  return events(result.stdout);
}

/** Serves the clip as live HLS and analyses the URL as it arrives, until the playlist closes. */
async function analyzeLive(live: (typeof LIVE)[number], fixture: Fixture): Promise<DefectEvent[]> {
  const dir = mkdtempSync(join(tmpdir(), 'streamqc-eval-hls-'));
  const origin = await startHlsOrigin({
    clip: fixturePath(live.clip),
    dir,
    segmentSeconds: live.segmentSeconds,
    playlist: live.playlist,
    closeAtEnd: true,
  });
  try {
    const result = await runCli(['analyze', '--no-realtime', origin.url]);
    if (result.code !== 0) throw new Error(`analyze ${fixture.name} failed: ${result.stderr.slice(-500)}`);
    return events(result.stdout);
  } finally {
    await origin.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function table(scores: Map<DefectType, TypeScore>): string {
  const rows = [
    '| type | fixtures with it | TP | FP | FN | precision | recall | F1 | onset error mean / max (s) | sync offset error mean / max (ms) |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '–');
  for (const [type, s] of [...scores.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const onset = s.onsetErrors.length
      ? `${f(s.onsetErrors.reduce((a, b) => a + b, 0) / s.onsetErrors.length)} / ${f(Math.max(...s.onsetErrors))}`
      : '–';
    const offset = s.offsetErrors.length
      ? `${(s.offsetErrors.reduce((a, b) => a + b, 0) / s.offsetErrors.length).toFixed(0)} / ${Math.max(...s.offsetErrors).toFixed(0)}`
      : '–';
    rows.push(
      `| ${type} | ${s.fixtures} | ${s.tp} | ${s.fp} | ${s.fn} | ${f(s.precision)} | ${f(s.recall)} | ${f(s.f1)} | ${onset} | ${offset} |`,
    );
  }
  return rows.join('\n');
}

await generateFixtures();
const liveFixtures: Fixture[] = LIVE.map((live) => {
  const base = FIXTURES.find((f) => f.name === live.clip)!;
  return {
    ...base,
    name: `${live.clip} as live HLS, ${live.segmentSeconds} s segments, ${live.playlist === 'event' ? 'EVENT' : 'sliding window'}`,
  };
});
const chosen = [...FIXTURES, ...liveFixtures].filter((f) => !only || f.name.includes(only));
const queue = chosen.filter((f) => FIXTURES.includes(f));
const results: { fixture: Fixture; found: DefectEvent[] }[] = [];
const runOne = async () => {
  for (let fixture = queue.shift(); fixture; fixture = queue.shift()) {
    results.push({ fixture, found: await analyze(fixture) });
  }
};
const runLive = async (fixture: Fixture, i: number) => {
  results.push({ fixture, found: await analyzeLive(LIVE[i], fixture) });
};
await Promise.all([
  runOne(),
  runOne(),
  ...liveFixtures.map((f, i) => (chosen.includes(f) ? runLive(f, i) : Promise.resolve())),
]);
results.sort((a, b) => chosen.indexOf(a.fixture) - chosen.indexOf(b.fixture));

const perFixture = results.map(({ fixture, found }) => ({
  fixture,
  found,
  score: scoreFixture(fixture.expected as ExpectedIncident[], found),
}));
for (const { fixture, score } of perFixture) {
  const misses = score.falseNegatives.map((e) => `missed ${e.type}@${e.start}`);
  for (const { want, got } of score.matches) {
    if (
      want.end !== undefined &&
      got.end !== null &&
      Math.abs(got.end - got.start - (want.end - want.start)) > 0.2
    )
      misses.push(
        `${want.type} lasted ${(got.end - got.start).toFixed(2)} s, not ${want.end - want.start} s`,
      );
  }
  const extras = score.falsePositives.map(
    (e) => `false ${e.type}@${e.start}-${e.end} ${JSON.stringify(e.detail)}`,
  );
  const line = [...misses, ...extras].join('; ');
  console.error(`${line ? '✗' : '✓'} ${fixture.name}${line ? `: ${line}` : ''}`);
}
const scores = summarize(perFixture.map((p) => ({ expected: p.fixture.expected, score: p.score })));
const cleanFalseAlarms = perFixture
  .filter((p) => p.fixture.expected.length === 0)
  .reduce((n, p) => n + p.score.falsePositives.length, 0);
const text = table(scores);
console.log(text);

if (write && !only) {
  const readme = join(ROOT, 'docs', 'detection.md');
  const body = readFileSync(readme, 'utf8');
  const start = '<!-- eval:start -->';
  const end = '<!-- eval:end -->';
  const a = body.indexOf(start);
  const b = body.indexOf(end);
  if (a >= 0 && b > a) {
    const note = `\n${chosen.length} fixtures (\`npm run eval\`, ${new Date().toISOString().slice(0, 10)}):\n\n${text}\n`;
    writeFileSync(readme, body.slice(0, a + start.length) + note + body.slice(b));
    console.error('docs/detection.md eval table updated');
  }
}

const minF1 = Math.min(...[...scores.values()].map((s) => s.f1));
const offsets = [...scores.values()].flatMap((s) => s.offsetErrors);
console.log(
  JSON.stringify({
    fixtures: chosen.length,
    minF1: Math.round(minF1 * 1000) / 1000,
    maxOnsetErrorSeconds:
      Math.round(Math.max(0, ...[...scores.values()].flatMap((s) => s.onsetErrors)) * 100) / 100,
    maxSyncOffsetErrorMs: offsets.length ? Math.max(...offsets) : null,
    falseAlarmsOnCleanFixtures: cleanFalseAlarms,
  }),
);
