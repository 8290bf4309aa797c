// streamqc operator console: every stream at a glance, and the evidence behind each alarm.
// Plain module, no build step. Data comes from the same API with the caller's own key; every
// value from the API is written as text (never as HTML).

const KEY = 'streamqc.key';
const POLL_MS = 2000;
const THUMB_MS = 5000;
const main = document.getElementById('main');
const status = document.getElementById('status');
const announce = document.getElementById('announce');
const signout = document.getElementById('signout');

/** Builds an element: h('a', { href: '#/' }, 'text', child…). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat())
    if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
}

// A key handed in the address (the demo prints such a link), or the ID token a sign-in page
// (Cognito's hosted UI) sends back, is kept for this tab and taken out of the address at once,
// so it is not left in the history or shown on screen.
const fromHash = /^#(?:key|id_token)=([\x21-\x25\x27-\x7e]{1,4096})/.exec(location.hash);
if (fromHash) {
  sessionStorage.setItem(KEY, decodeURIComponent(fromHash[1]));
  history.replaceState(null, '', `${location.pathname}#/`);
}
const key = () => sessionStorage.getItem(KEY);

class Unauthorized extends Error {}

/** The API's routes as the console reaches them (on AWS behind the console's own sign-in). */
const API = '/console/api';

async function api(path) {
  const res = await fetch(`${API}${path}`, {
    headers: { authorization: `Bearer ${key()}` },
    cache: 'no-store',
  });
  if (res.status === 401) throw new Unauthorized();
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return res;
}
const json = async (path) => (await api(path)).json();

/** Object URLs of pictures fetched with the key (img src cannot send it), by path. */
const pictures = new Map();
async function picture(path, img) {
  try {
    const blob = await (await api(path)).blob();
    const url = URL.createObjectURL(blob);
    const old = pictures.get(path);
    pictures.set(path, url);
    img.src = url;
    if (old) setTimeout(() => URL.revokeObjectURL(old), 1000);
    return true;
  } catch (e) {
    if (e instanceof Unauthorized) throw e;
    return false;
  }
}

async function allStreams() {
  const items = [];
  let cursor = null;
  do {
    const page = await json(`/streams?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

/** ok, alarm (open alarms), waiting (a unit not running). */
function stateOf(stream) {
  if (stream.openAlarms.some((a) => a.severity !== 'info')) return 'alarm';
  if (stream.assignment.some((u) => u.state !== 'running')) return 'waiting';
  return 'ok';
}
const STATE_TEXT = { ok: 'OK', alarm: 'Alarm', waiting: 'Not running' };

function lastMedia(stream) {
  const times = Object.values(stream.health ?? {})
    .map((u) => u.lastMediaAt)
    .filter(Boolean)
    .sort();
  return times.length ? new Date(times.at(-1)).toLocaleTimeString() : 'no media yet';
}

const labelsText = (labels) =>
  Object.entries(labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');

const filters = { state: 'all', label: '' };
let known = new Set();
let thumbsAt = 0;

async function mosaic(first) {
  const streams = await Promise.all((await allStreams()).map((s) => json(`/streams/${s.id}`)));
  // New alarms are read out to screen readers.
  const open = new Set(streams.flatMap((s) => s.openAlarms.map((a) => a.dedupKey)));
  const fresh = streams.flatMap((s) =>
    s.openAlarms.filter((a) => !known.has(a.dedupKey)).map((a) => `${s.name}: ${a.type}`),
  );
  if (!first && fresh.length) announce.textContent = `New alarm: ${fresh.join('; ')}`;
  known = open;
  const shown = streams.filter((s) => {
    const state = stateOf(s);
    if (filters.state !== 'all' && state !== filters.state) return false;
    return !filters.label || labelsText(s.labels).includes(filters.label);
  });
  let list = document.getElementById('mosaic');
  if (first || !list) {
    list = h('ul', { id: 'mosaic', class: 'mosaic', 'aria-label': 'Streams' });
    main.replaceChildren(
      h('h2', {}, 'Streams'),
      h(
        'div',
        { class: 'filters' },
        h(
          'label',
          {},
          'State',
          h(
            'select',
            {
              id: 'f-state',
              onchange: (e) => {
                filters.state = e.target.value;
                refresh();
              },
            },
            ...['all', 'alarm', 'waiting', 'ok'].map((v) =>
              h('option', { value: v, selected: v === filters.state }, v === 'all' ? 'All' : STATE_TEXT[v]),
            ),
          ),
        ),
        h(
          'label',
          {},
          'Label',
          h('input', {
            id: 'f-label',
            type: 'search',
            placeholder: 'e.g. region=eu',
            value: filters.label,
            oninput: (e) => {
              filters.label = e.target.value;
              refresh();
            },
          }),
        ),
      ),
      list,
    );
  }
  const refreshThumbs = Date.now() - thumbsAt >= THUMB_MS;
  if (refreshThumbs) thumbsAt = Date.now();
  const tiles = [];
  for (const s of shown) {
    const state = stateOf(s);
    let tile = list.querySelector(`[data-id="${CSS.escape(s.id)}"]`);
    if (!tile) {
      const img = h('img', { class: 'thumb', alt: `Latest picture of ${s.name}`, width: 320, height: 180 });
      tile = h(
        'li',
        { class: 'tile', 'data-id': s.id },
        h('a', { href: `#/streams/${s.id}` }, img, h('div', { class: 'info' })),
      );
      picture(`/streams/${s.id}/thumbnail`, img).catch(() => {});
    } else if (refreshThumbs) {
      picture(`/streams/${s.id}/thumbnail`, tile.querySelector('img')).catch(() => {});
    }
    tile.dataset.state = state;
    tile.querySelector('.info').replaceChildren(
      h('h2', {}, s.name, ' ', h('span', { class: `badge ${state}` }, STATE_TEXT[state])),
      h('p', { class: 'meta' }, `Last media: ${lastMedia(s)}`),
      s.labels && Object.keys(s.labels).length
        ? h('p', { class: 'meta' }, `Labels: ${labelsText(s.labels)}`)
        : null,
      s.openAlarms.length
        ? h(
            'ul',
            { class: 'alarms', 'aria-label': 'Open alarms' },
            s.openAlarms.map((a) => h('li', {}, `${a.type} (${a.severity})`)),
          )
        : null,
    );
    tiles.push(tile);
  }
  list.replaceChildren(...tiles);
  if (!shown.length)
    list.replaceChildren(
      h('li', {}, streams.length ? 'No stream matches the filters.' : 'No streams registered yet.'),
    );
}

/** Ten seconds of sound levels at the raise, as bars (RMS, dBFS from −90 to 0). */
function levelsStrip(levels) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'levels');
  svg.setAttribute('viewBox', `0 0 ${Math.max(1, levels.length)} 90`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('role', 'img');
  const low = Math.min(...levels.map((l) => l.rmsDb));
  svg.setAttribute(
    'aria-label',
    `Sound level over ${levels.length / 10} s before the raise, lowest ${low} dBFS`,
  );
  levels.forEach((l, i) => {
    const height = Math.max(0, Math.min(90, 90 + l.rmsDb));
    const bar = document.createElementNS(ns, 'rect');
    bar.setAttribute('x', String(i));
    bar.setAttribute('y', String(90 - height));
    bar.setAttribute('width', '0.8');
    bar.setAttribute('height', String(height));
    bar.setAttribute('fill', '#0a4fa3');
    svg.append(bar);
  });
  return svg;
}

async function evidence(path, type) {
  const box = h('div', { class: 'evidence' });
  if (path.endsWith('.jpg')) {
    const img = h('img', { alt: `Picture at the raise of ${type}`, 'data-evidence': path });
    box.append(img);
    picture(path, img).catch(() => box.append(h('p', { class: 'error' }, 'evidence not available')));
  } else {
    json(path)
      .then((e) =>
        box.append(e.levels ? levelsStrip(e.levels) : h('pre', {}, JSON.stringify(e.detail, null, 2))),
      )
      .catch(() => box.append(h('p', { class: 'error' }, 'evidence not available')));
  }
  return box;
}

/** When an event happened: a clear at its end, a raise at its start (wall clock when known). */
function when(e) {
  const cleared = e.state === 'cleared';
  const wall = cleared ? e.wallEnd : e.wallStart;
  if (wall) return new Date(wall).toLocaleString();
  const t = cleared ? e.end : e.start;
  return typeof t === 'number' ? `${t.toFixed(1)} s into the media` : 'unknown time';
}

async function streamPage(id, first) {
  const [s, defects] = await Promise.all([json(`/streams/${id}`), json(`/streams/${id}/defects?limit=100`)]);
  const state = stateOf(s);
  const signature = JSON.stringify([
    s.openAlarms.map((a) => a.dedupKey),
    defects.items.map((d) => d.dedupKey + d.state),
    state,
  ]);
  if (!first && main.dataset.signature === signature) {
    document.getElementById('health-body')?.replaceChildren(...healthRows(s));
    return;
  }
  main.dataset.signature = signature;
  const img = h('img', { class: 'thumb', alt: `Latest picture of ${s.name}`, width: 320, height: 180 });
  picture(`/streams/${id}/thumbnail`, img).catch(() => {});
  const timeline = await Promise.all(
    defects.items.map(async (d) =>
      h(
        'li',
        {},
        h('strong', {}, `${d.state === 'raised' ? 'Raised' : 'Cleared'} ${d.type}`),
        ` (${d.severity}) at ${when(d)}`,
        d.detail?.scope
          ? ` · seen on ${d.detail.scope === 'all' ? 'every rendition' : 'this rendition'}`
          : '',
        d.detail?.flapping ? ` · flapping (${d.detail.flapCount ?? 'several'} times)` : '',
        d.state === 'raised' && d.detail?.evidence ? await evidence(d.detail.evidence, d.type) : null,
      ),
    ),
  );
  main.replaceChildren(
    h('p', {}, h('a', { href: '#/' }, '← All streams')),
    h('h2', {}, s.name, ' ', h('span', { class: `badge ${state}` }, STATE_TEXT[state])),
    h(
      'div',
      { class: 'detail' },
      h(
        'section',
        { 'aria-labelledby': 'h-now' },
        h('h3', { id: 'h-now' }, 'Now'),
        img,
        h(
          'table',
          {},
          h('caption', { class: 'visually-hidden' }, 'Health by detector group'),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'col' }, 'Group'),
              h('th', { scope: 'col' }, 'State'),
              h('th', { scope: 'col' }, 'Worker'),
              h('th', { scope: 'col' }, 'Media time'),
              h('th', { scope: 'col' }, 'Lag'),
              h('th', { scope: 'col' }, 'Decoding'),
            ),
          ),
          h('tbody', { id: 'health-body' }, ...healthRows(s)),
        ),
        h('h3', {}, 'Open alarms'),
        s.openAlarms.length
          ? h(
              'ul',
              {},
              s.openAlarms.map((a) => h('li', {}, `${a.type} (${a.severity}) since ${when(a)}`)),
            )
          : h('p', {}, 'None.'),
        h(
          'details',
          {},
          h('summary', {}, 'Thresholds in force'),
          h('pre', {}, JSON.stringify(s.thresholdsInForce ?? s.thresholds, null, 2)),
        ),
        h('p', { class: 'meta' }, `Source: ${s.url}`),
        s.labels && Object.keys(s.labels).length
          ? h('p', { class: 'meta' }, `Labels: ${labelsText(s.labels)}`)
          : null,
      ),
      h(
        'section',
        { 'aria-labelledby': 'h-timeline' },
        h('h3', { id: 'h-timeline' }, 'Incident timeline'),
        timeline.length
          ? h('ol', { class: 'timeline', reversed: true }, timeline)
          : h('p', {}, 'Nothing raised yet.'),
      ),
    ),
  );
}

function healthRows(s) {
  return s.assignment.map((u) => {
    const health = s.health?.[u.group];
    return h(
      'tr',
      {},
      h('td', {}, u.group),
      h('td', {}, u.state + (u.reason ? `: ${u.reason}` : '')),
      h('td', {}, u.workerId ?? '—'),
      h('td', {}, health ? `${health.mediaTime.toFixed(1)} s` : '—'),
      h('td', {}, health ? `${health.lagSeconds.toFixed(1)} s` : '—'),
      h('td', {}, decodingText(health)),
    );
  });
}

function decodingText(health) {
  if (!health?.decoding) return '—';
  if (health.decoding === 'reference') return 'reference pictures';
  return health.fullReason ? `every picture (${health.fullReason})` : 'every picture';
}

function signIn(message) {
  sessionStorage.removeItem(KEY);
  signout.hidden = true;
  const input = h('input', { id: 'key', type: 'password', autocomplete: 'off', required: true });
  main.replaceChildren(
    h(
      'form',
      {
        class: 'signin',
        onsubmit: (e) => {
          e.preventDefault();
          sessionStorage.setItem(KEY, input.value.trim());
          location.hash = '#/';
          refresh(true);
        },
      },
      h('h2', {}, 'Sign in'),
      message ? h('p', { class: 'error', role: 'alert' }, message) : null,
      h('label', { for: 'key' }, 'API key'),
      input,
      h('button', { type: 'submit' }, 'Open the console'),
    ),
  );
}

let busy = false;
let again = false;
async function refresh(first = false) {
  if (busy && !first) {
    again = true;
    return;
  }
  if (!key()) return signIn();
  busy = true;
  signout.hidden = false;
  try {
    const route = /^#\/streams\/([\w-]+)$/.exec(location.hash);
    if (route) await streamPage(route[1], first);
    else await mosaic(first);
    status.textContent = `Updated ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    if (e instanceof Unauthorized) signIn('That key was not accepted.');
    else status.textContent = `Could not update: ${e.message}`;
  } finally {
    busy = false;
    if (again) {
      again = false;
      setTimeout(() => refresh(), 0);
    }
  }
}

signout.addEventListener('click', () => signIn());
window.addEventListener('hashchange', () => {
  main.dataset.signature = '';
  refresh(true).then(() => main.focus());
});
refresh(true);
setInterval(() => refresh(), POLL_MS);
