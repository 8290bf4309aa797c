// End-to-end: a live DASH ladder registered with the local stack, as a stream owner would.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHlsLadder } from './test/helpers/hlsLadder.js';
const ladder = await startHlsLadder(mkdtempSync(join(tmpdir(), 'e2e-dash-')), [{ on: 1, from: 24, to: 36 }], 120, 'dash');
const data = mkdtempSync(join(tmpdir(), 'e2e-data-'));
const stack = spawn('node', ['bin/streamqc.js', 'start', '--data', data, '--workers', '1'], { env: { ...process.env, PORT: '18931', STREAMQC_API_KEYS: 'me:sqk_e2e_key_123456789' }, stdio: ['ignore', 'pipe', 'pipe'] });
let out = ''; stack.stdout.on('data', (c) => { out += c; }); stack.stderr.on('data', (c) => { out += c; });
await new Promise((r) => setTimeout(r, 6000));
const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`http://127.0.0.1:18931${path}`, { method, headers: { authorization: 'Bearer sqk_e2e_key_123456789', 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
  return { status: res.status, body: await res.json() };
};
const created = await api('POST', '/streams', { url: ladder.url, name: 'dash ladder', rendition: 'lowest' });
console.log('POST', created.status, created.body.id);
await new Promise((r) => setTimeout(r, 50000));
const got = await api('GET', `/streams/${created.body.id}`);
console.log('health', JSON.stringify(got.body.health).slice(0, 600));
const defects = await api('GET', `/streams/${created.body.id}/defects`);
console.log('defects', JSON.stringify(defects.body).slice(0, 2500));
stack.kill('SIGINT');
await new Promise((r) => stack.once('exit', r));
await ladder.stop();
const lines = out.split('\n').filter((l) => /"level":(40|50)/.test(l));
console.log('warn/error lines', lines.length, lines.slice(0, 5).join('\n').slice(0, 1500));
