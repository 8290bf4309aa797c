/**
 * `npm run compare`: runs FFmpeg's own blackdetect, freezedetect and silencedetect on the fixture
 * clips next to `streamqc analyze`, and prints both sets of findings as a Markdown table.
 */
import { spawnSync } from 'node:child_process';
import { FIXTURES } from '../fixtures/fixtures.js';
import { fixturePath, generateFixtures } from '../fixtures/generate.js';
import { events, ROOT } from '../helpers/runCli.js';

await generateFixtures();

function ffmpegFindings(path: string): string[] {
  const probe = spawnSync(
    'ffprobe',
    ['-v', 'error', '-show_entries', 'stream=codec_type', '-of', 'csv=p=0', path],
    {
      encoding: 'utf8',
    },
  ).stdout;
  const args = ['-hide_banner', '-nostats', '-i', path];
  if (probe.includes('video')) args.push('-vf', 'blackdetect=d=1:pix_th=0.1,freezedetect=d=2');
  if (probe.includes('audio')) args.push('-af', 'silencedetect=n=-60dB:d=1');
  const { stderr } = spawnSync('ffmpeg', [...args, '-f', 'null', '-'], { encoding: 'utf8' });
  const found: string[] = [];
  for (const m of stderr.matchAll(/black_start:([\d.]+) black_end:([\d.]+)/g))
    found.push(`black ${m[1]}–${m[2]}`);
  const freezeStarts = [...stderr.matchAll(/freeze_start: ([\d.]+)/g)].map((m) => m[1]);
  const freezeEnds = [...stderr.matchAll(/freeze_end: ([\d.]+)/g)].map((m) => m[1]);
  for (const [i, s] of freezeStarts.entries()) found.push(`freeze ${s}–${freezeEnds[i] ?? 'end'}`);
  const silenceStarts = [...stderr.matchAll(/silence_start: ([\d.]+)/g)].map((m) => m[1]);
  const silenceEnds = [...stderr.matchAll(/silence_end: ([\d.]+)/g)].map((m) => m[1]);
  for (const [i, s] of silenceStarts.entries()) found.push(`silence ${s}–${silenceEnds[i] ?? 'end'}`);
  return found;
}

function streamqcFindings(path: string): string[] {
  const { stdout } = spawnSync(process.execPath, [`${ROOT}/bin/streamqc.js`, 'analyze', path], {
    encoding: 'utf8',
  });
  return events(stdout).map((e) => `${e.type} ${e.start.toFixed(2)}–${e.end?.toFixed(2) ?? 'open'}`);
}

console.log('| clip | injected | FFmpeg blackdetect / freezedetect / silencedetect | streamqc analyze |');
console.log('|---|---|---|---|');
for (const f of FIXTURES) {
  const path = fixturePath(f.name);
  const ff = ffmpegFindings(path).join('<br>') || '—';
  const ours = streamqcFindings(path).join('<br>') || '—';
  console.log(`| ${f.name} | ${f.description} | ${ff} | ${ours} |`);
}
