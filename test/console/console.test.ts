/**
 * The operator console in a real browser (Debian's Chromium, driven by playwright-core) against
 * the local stack with a live UDP stream: the mosaic shows the stream with a thumbnail that
 * changes, a black injected into the feed appears as an alarm without a reload, the stream page
 * (reached by keyboard) shows the evidence picture taken at the raise, and it is black; another
 * owner sees none of it. Accessibility checked with axe-core (WCAG 2 A/AA, colour contrast
 * included). Screenshots go to test/.output/console/.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import axe from 'axe-core';
import { pino } from 'pino';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../local/localStack.js';
import { makeClip } from '../helpers/clips.js';
import { freeUdpPort, UdpSender } from '../helpers/liveOrigin.js';
import { ROOT } from '../helpers/runCli.js';
import { callApi, until } from '../helpers/stackClient.js';

const CHROMIUM = process.env.STREAMQC_CHROMIUM || '/usr/bin/chromium';
const OUT = join(ROOT, 'test', '.output', 'console');
const KEY_A = 'sqk_console_owner_a_0123456789abcdef';
const KEY_B = 'sqk_console_owner_b_0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'streamqc-console-'));
let stack: LocalStack;
let sender: UdpSender;
let browser: Browser;
let streamId: string;

beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  // A 20 s loop of a moving test card, black from 8 to 12 s.
  const clip = join(dir, 'card.ts');
  makeClip(clip, 20, ",drawbox=c=black:t=fill:enable='between(t,8,12)'");
  sender = new UdpSender(clip, await freeUdpPort());
  process.env.STREAMQC_API_KEYS = `alice:${KEY_A},bob:${KEY_B}`;
  stack = await startLocalStack({
    dataDir: join(dir, 'stack'),
    port: 0,
    workers: 1,
    logger: pino({ level: 'silent' }),
    workerEnv: { STREAMQC_CONSOLE: '0', STREAMQC_THUMBNAIL_SECONDS: '1' },
  });
  sender.start();
  const a = await callApi(stack.url, KEY_A, 'POST', '/streams', {
    url: sender.url,
    name: 'studio-a',
    labels: { site: 'north' },
  });
  expect(a.status).toBe(201);
  streamId = a.body.id;
  const b = await callApi(stack.url, KEY_B, 'POST', '/streams', {
    url: 'udp://127.0.0.1:9',
    name: 'bobs-feed',
  });
  expect(b.status).toBe(201);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // This machine's network is closed: Chromium's own background connections are turned off.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  sender?.stop();
  await stack?.stop();
  delete process.env.STREAMQC_API_KEYS;
});

/** What an <img> shows (a picture fetched with the key, as an object URL): its pixels, hashed. */
function pictureHash(page: Page, selector: string): Promise<string | null> {
  return page.$eval(selector, (img) => {
    const el = img as HTMLImageElement;
    if (!el.src.startsWith('blob:') || !el.complete || !el.naturalWidth) return null;
    const canvas = document.createElement('canvas');
    canvas.width = el.naturalWidth;
    canvas.height = el.naturalHeight;
    const g = canvas.getContext('2d');
    if (!g) return null;
    g.drawImage(el, 0, 0);
    const { data } = g.getImageData(0, 0, canvas.width, canvas.height);
    let hash = 2166136261;
    for (let i = 0; i < data.length; i++) hash = Math.imul(hash ^ data[i], 16777619);
    return `${canvas.width}x${canvas.height}:${(hash >>> 0).toString(16)}`;
  });
}

/** The mean brightness (0–255) of a loaded <img>, drawn on a canvas. */
function meanBrightness(page: Page, selector: string): Promise<number> {
  return page.$eval(selector, async (img) => {
    const el = img as HTMLImageElement;
    if (!el.complete || !el.naturalWidth)
      await new Promise((r) => el.addEventListener('load', r, { once: true }));
    const canvas = document.createElement('canvas');
    canvas.width = el.naturalWidth;
    canvas.height = el.naturalHeight;
    const g = canvas.getContext('2d');
    if (!g) return -1;
    g.drawImage(el, 0, 0);
    const { data } = g.getImageData(0, 0, canvas.width, canvas.height);
    let sum = 0;
    for (let i = 0; i < data.length; i += 4) sum += (data[i] + data[i + 1] + data[i + 2]) / 3;
    return sum / (data.length / 4);
  });
}

async function axeViolations(page: Page): Promise<string[]> {
  // Evaluated through the browser's debugging protocol: the page's own policy allows no inline script.
  await page.evaluate(axe.source);
  const result = await page.evaluate(() =>
    // biome-ignore lint/suspicious/noExplicitAny: axe is injected into the page above
    (window as any).axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa', 'best-practice'] }),
  );
  return (result.violations as Array<{ id: string; nodes: unknown[] }>).map(
    (v) => `${v.id} (${v.nodes.length})`,
  );
}

describe('the operator console', () => {
  it('shows the stream live, raises the injected black with a black evidence picture, and shows another owner nothing', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // The link the demo prints: the key in the fragment, taken out of the address at once.
    await page.goto(`${stack.url}/console#key=${KEY_A}`);
    expect(page.url()).not.toContain(KEY_A);
    const tile = `li.tile[data-id="${streamId}"]`;
    await page.waitForSelector(`${tile} h2:has-text("studio-a")`, { timeout: 60_000 });
    expect(await page.textContent(tile)).toContain('site=north');

    // The thumbnail shows the live picture and changes as the stream plays.
    const first = await until('a thumbnail', 60, () => pictureHash(page, `${tile} img`));
    await until('a different thumbnail', 30, async () => {
      const now = await pictureHash(page, `${tile} img`);
      return now && now !== first ? now : undefined;
    });
    await page.screenshot({ path: join(OUT, 'mosaic.png'), fullPage: true });

    // The injected black arrives as an alarm on the open page (it polls; no reload).
    await page.waitForSelector(`${tile}[data-state="alarm"] .alarms li:has-text("video.black")`, {
      timeout: 60_000,
    });
    await page.screenshot({ path: join(OUT, 'mosaic-alarm.png'), fullPage: true });
    expect(await axeViolations(page)).toEqual([]);

    // By keyboard: Tab to the stream's link, Enter opens its page.
    let focused = '';
    for (let i = 0; i < 10 && !focused.includes(`#/streams/${streamId}`); i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(() => (document.activeElement as HTMLAnchorElement | null)?.href ?? '');
    }
    expect(focused).toContain(`#/streams/${streamId}`);
    await page.keyboard.press('Enter');
    const evidence = 'img[data-evidence]';
    await page.waitForSelector(evidence, { timeout: 30_000 });
    // The page is redrawn when its timeline changes (a clear, the next raise): measure whichever
    // evidence picture is on it once one has loaded.
    const brightness = await until('the evidence picture loaded', 30, async () => {
      try {
        const value = (await pictureHash(page, evidence)) ? await meanBrightness(page, evidence) : null;
        return value !== null && value >= 0 ? { value } : undefined;
      } catch {
        return undefined; // redrawn between the two looks
      }
    });
    // The picture taken at the raise is black (a test card is nowhere near).
    expect(brightness.value).toBeLessThan(25);
    expect(await page.textContent('main')).toContain('Raised video.black');
    await page.screenshot({ path: join(OUT, 'stream.png'), fullPage: true });
    expect(await axeViolations(page)).toEqual([]);
    expect(errors).toEqual([]);

    // Another owner: none of it, in the console or by asking for the pictures directly.
    const other = await browser.newPage();
    await other.goto(`${stack.url}/console#key=${KEY_B}`);
    await other.waitForSelector('li.tile h2:has-text("bobs-feed")', { timeout: 30_000 });
    expect(await other.textContent('main')).not.toContain('studio-a');
    const raisedEvent = (
      await callApi(stack.url, KEY_A, 'GET', `/streams/${streamId}/defects`)
    ).body.items.find((d: { state: string }) => d.state === 'raised');
    const path = raisedEvent.detail.evidence;
    for (const p of [`/streams/${streamId}/thumbnail`, path]) {
      const res = await fetch(`${stack.url}${p}`, { headers: { authorization: `Bearer ${KEY_B}` } });
      expect(res.status).toBe(404);
    }
    await other.screenshot({ path: join(OUT, 'other-owner.png'), fullPage: true });
  });
});
