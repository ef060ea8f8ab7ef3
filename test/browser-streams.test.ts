// The pages' reconnect, in Chromium: a stream refused over a cap waits as long as Retry-After says
// instead of hammering, and a stream that lived its time is replaced at once without a gap.
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { describe, it } from 'node:test';
import request from 'supertest';
import { ARTIFACTS, ConsoleWatch, launchBrowser, phoneContext, screenshot, WAIT_MS } from './support/browser.js';
import { bearer, buildApp, createSession, listen } from './support/app.js';

/**
 * Every request the page makes to its event stream, with its method and when (ms since the page
 * opened), and the status of each as its answer arrives.
 */
function streamRequests(page: import('playwright-core').Page, since: number): { method: string; at: number; status?: number }[] {
  const seen: { method: string; at: number; status?: number }[] = [];
  const sent = new Map<import('playwright-core').Request, { method: string; at: number; status?: number }>();
  page.on('request', (req) => {
    if (!req.url().endsWith('/events')) return;
    const entry = { method: req.method(), at: performance.now() - since };
    sent.set(req, entry);
    seen.push(entry);
  });
  page.on('response', (res) => {
    const entry = sent.get(res.request());
    if (entry) entry.status = res.status();
  });
  return seen;
}

describe('the pages reconnecting to their event stream', () => {
  it('over a stream cap, the page waits for Retry-After before it opens the stream again, then goes live', async (t) => {
    const built = await buildApp(t, {
      config: { rateLimits: { enabled: true }, streams: { perAddress: 1, perSession: 10, total: 10, retryAfterSeconds: 4, maxLifetimeMs: 3_600_000 } },
    });
    const { url } = await listen(t, built);
    const s = await createSession(built.app);
    // Another screen on the same address holds the one place.
    const holder = http.get(`${url}/api/sessions/${s.id}/events`, { agent: false });
    holder.on('error', () => {});
    await new Promise<void>((resolve) => holder.once('response', (res) => res.once('data', () => resolve())));

    const browser = await launchBrowser(t);
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    const watch = new ConsoleWatch('display', page);
    const opened = performance.now();
    const seen = streamRequests(page, opened);
    await page.goto(`${url}/display/${s.id}`);
    // The refusal's first check: the page asks with HEAD and learns the wait. The place is freed
    // only once that answer is in: freed while the HEAD is on its way, the answer would be "open now".
    await page.locator('#link[data-status="reconnecting"]').waitFor({ timeout: WAIT_MS });
    const headAnswered = () => seen.some((r) => r.method === 'HEAD' && r.status !== undefined);
    while (!headAnswered()) await page.waitForResponse((r) => r.url().endsWith('/events') && r.request().method() === 'HEAD', { timeout: WAIT_MS });
    assert.equal(seen.find((r) => r.method === 'HEAD')!.status, 429, 'the first check is refused while the place is held');
    holder.destroy();

    await page.locator('#link[data-status="live"]').waitFor({ state: 'visible', timeout: 15_000 });
    const gets = seen.filter((r) => r.method === 'GET');
    assert.equal(gets.length, 2, `one refused stream and one that opened: ${JSON.stringify(seen)}`);
    const waited = gets[1]!.at - seen.find((r) => r.method === 'HEAD')!.at;
    assert.ok(waited >= 4000, `waited ${Math.round(waited)} ms after a Retry-After of at least 4 s`);
    const heads = seen.filter((r) => r.method === 'HEAD');
    assert.equal(heads.length, 2, 'asked, waited, asked again and opened');
    assert.ok(heads[1]!.at - heads[0]!.at >= 4000);
    watch.allow(/429|Too Many Requests|EventSource/);
    assert.deepEqual(watch.problems, []);
  });

  it('a stream that reached its lifetime is replaced at once: the page stays live and misses no change', async (t) => {
    const built = await buildApp(t, { config: { streams: { perAddress: 10, perSession: 10, total: 10, retryAfterSeconds: 5, maxLifetimeMs: 1500 } } });
    const { url } = await listen(t, built);
    const s = await createSession(built.app, 'Before');

    const browser = await launchBrowser(t);
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    const watch = new ConsoleWatch('display', page);
    const seen = streamRequests(page, performance.now());
    await page.goto(`${url}/display/${s.id}`);
    await page.locator('#link[data-status="live"]').waitFor({ timeout: WAIT_MS });
    // Every status the page shows from now on.
    await page.evaluate(`(() => {
      const link = document.querySelector('#link');
      window.statuses = [];
      new MutationObserver(() => window.statuses.push(link.getAttribute('data-status'))).observe(link, { attributes: true });
    })()`);
    // Two lifetimes pass; a change lands while the streams are being replaced.
    while (seen.filter((r) => r.method === 'GET').length < 2) await page.waitForRequest((r) => r.url().endsWith('/events'), { timeout: WAIT_MS });
    await request(built.app).patch(`/api/sessions/${s.id}`).set(bearer(s.hostKey)).send({ name: 'After' }).expect(200);
    while (seen.filter((r) => r.method === 'GET').length < 3) await page.waitForRequest((r) => r.url().endsWith('/events'), { timeout: WAIT_MS });

    await page.getByText('After').first().waitFor({ state: 'visible', timeout: WAIT_MS });
    const statuses = (await page.evaluate('window.statuses')) as string[];
    assert.deepEqual(statuses.filter((x) => x !== 'live'), [], 'never showed "Reconnecting…"');
    assert.equal(seen.filter((r) => r.method === 'HEAD').length, 0, 'no probing: the server said to reconnect');
    assert.deepEqual(watch.problems, []);
  });

  it('the guest page sends the id its phone keeps with the join: a phone that used its joins is told to wait, the next phone joins', async (t) => {
    const built = await buildApp(t, { config: { rateLimits: { enabled: true, joinPerDevicePerMinute: 1 } } });
    const { url } = await listen(t, built);
    const s = await createSession(built.app);
    const browser = await launchBrowser(t);

    const join = async (context: import('playwright-core').BrowserContext, name: string) => {
      const page = await context.newPage();
      await page.goto(`${url}/s/${s.id}`);
      await page.getByLabel('Your name').fill(name);
      await page.getByLabel('Song title').fill('Africa');
      const sent = page.waitForRequest((r) => r.url().endsWith('/singers') && r.method() === 'POST');
      await page.getByRole('button', { name: 'Join and add my song' }).click();
      return { page, device: (await sent).headers()['x-device-id'] };
    };

    const phone = await phoneContext(browser);
    const first = await join(phone, 'Ann');
    assert.match(first.device ?? '', /^[A-Za-z0-9_-]{16,64}$/);
    await first.page.locator('#me').waitFor({ state: 'visible', timeout: WAIT_MS });
    // The same phone, a second join (the guest forgot, as a cleared site would, but the phone's id stays).
    await first.page.evaluate(`localStorage.removeItem('karaoke:guest:${s.id}')`);
    const again = await join(phone, 'Ann again');
    assert.equal(again.device, first.device, 'the id is kept on the phone');
    const alert = again.page.getByRole('alert').filter({ hasText: /Too many tries\. Wait \d+ seconds/ });
    await alert.first().waitFor({ state: 'visible', timeout: WAIT_MS });
    await screenshot(again.page, 'join-rate-limited-390');
    await again.page.setViewportSize({ width: 320, height: 640 });
    await alert.first().scrollIntoViewIfNeeded();
    const box = await alert.first().boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 320 && box.y >= 0 && box.y + box.height <= 640, 'the sentence fits a 320 px phone');
    // Where the guest is looking after pressing the button (screenshot() would scroll to the top).
    await again.page.screenshot({ path: path.join(ARTIFACTS, 'join-rate-limited-320.png') });

    const other = await join(await phoneContext(browser), 'Bea');
    assert.notEqual(other.device, first.device);
    await other.page.locator('#me').waitFor({ state: 'visible', timeout: WAIT_MS });
  });
});
