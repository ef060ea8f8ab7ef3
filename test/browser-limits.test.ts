// The limits of a night as a guest and a host see them, in real Chromium at phone size: a full
// night, a full queue and a taken name each say what happened in the guest's words; the host
// closes joins, is asked about a walk-in named like a phone guest, and removes a singer.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { Page } from 'playwright-core';
import request from 'supertest';
import type { NightLimits } from '../server/config.js';
import { DEFAULT_LIMITS } from '../server/sessions/limits.js';
import { bearer, buildApp, createSession, joinAs, listen, requestSong } from './support/app.js';
import { ARTIFACTS, ConsoleWatch, expectQueue, expectText, guestPhoneContext, launchBrowser, phoneContext, WAIT_MS } from './support/browser.js';

/** What the phone shows where the person is looking (the shared helper scrolls to the top first). */
async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), animations: 'disabled' });
}

async function limitedServer(t: TestContext, limits: Partial<NightLimits>) {
  const app = await buildApp(t, { config: { limits: { ...DEFAULT_LIMITS, ...limits } } });
  const { url } = await listen(t, app);
  return { app, url };
}

/** The element is on screen, not only in the DOM. */
async function inViewport(page: Page, selector: string): Promise<void> {
  const box = await page.locator(selector).boundingBox();
  const size = page.viewportSize()!;
  assert.ok(box && box.y >= 0 && box.y + box.height <= size.height && box.x >= 0 && box.x + box.width <= size.width, `${selector} is inside the ${JSON.stringify(size)} viewport: ${JSON.stringify(box)}`);
}

/** A guest on a fresh phone types a name and a song and sends it. */
async function joinAndAsk(page: Page, url: string, name: string, title: string): Promise<void> {
  await page.goto(url);
  await expectText(page, '#link', /Live/);
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Song title').fill(title);
  await page.getByRole('button', { name: 'Join and add my song' }).click();
}

describe('limits in the pages', () => {
  it('a guest at 390 px is told in plain words that the night is full, the queue is full, or the name is taken', async (t) => {
    const { app, url } = await limitedServer(t, { singersPerNight: 2, queuedSongs: 2 });
    const browser = await launchBrowser(t);

    // A night with both of its singers in.
    const full = await createSession(app.app, 'Full Night');
    for (const name of ['Ann', 'Bob']) await joinAs(app.app, full.id, name);
    // A night whose queue is full: Maya has both songs in it.
    const busy = await createSession(app.app, 'Busy Night');
    const maya = await joinAs(app.app, busy.id, 'Maya');
    await requestSong(app.app, busy.id, maya.key, 'One');
    await requestSong(app.app, busy.id, maya.key, 'Two');

    const context = await phoneContext(browser);
    context.setDefaultTimeout(WAIT_MS);
    const page = await context.newPage();
    const watch = new ConsoleWatch('guest', page);

    await joinAndAsk(page, `${url}/s/${full.id}`, 'Cleo', 'Hello');
    await expectText(page, '#request-error', /^Sorry, tonight is full: no more singers can join\. Ask the host to add your song\.$/);
    await inViewport(page, '#request-error');
    await screenshot(page, 'limits-guest-session-full-390');

    await joinAndAsk(page, `${url}/s/${busy.id}`, 'maya', 'Hello');
    await expectText(page, '#request-error', /^There's already a Maya: add an initial\?$/);
    await inViewport(page, '#request-error');
    assert.equal(await page.evaluate('document.activeElement?.id'), 'name', 'the name box is where to add the initial');
    await screenshot(page, 'limits-guest-name-taken-390');

    // On a 320 px phone too, the sentence is where the guest looks.
    await page.setViewportSize({ width: 320, height: 640 });
    await page.getByLabel('Your name').fill('Maya B.');
    await page.getByRole('button', { name: 'Join and add my song' }).click();
    await expectText(page, '#request-error', /^The queue is full right now\. Try again once a few songs have been sung\.$/);
    await inViewport(page, '#request-error');
    await expectText(page, '#me-name', /^Maya B\.$/);
    await screenshot(page, 'limits-guest-queue-full-320');

    // Once a song is sung there is room again, and the song goes in.
    await request(app.app).post(`/api/sessions/${busy.id}/next`).set(bearer(busy.hostKey)).send({}).expect(200);
    await page.getByLabel('Song title').fill('Hello');
    await page.getByRole('button', { name: 'Add my song' }).click();
    await expectText(page, '#request-done', /Added “Hello”/);
    assert.equal(watch.allow(/409/), 3, 'the three refusals, and nothing else, show in the console');
    assert.deepEqual(watch.problems, []);
  });

  it('the host at 390 px closes joins, is asked about a walk-in named like a phone guest, and removes a singer with their songs', async (t) => {
    const { app, url } = await limitedServer(t, {});
    const browser = await launchBrowser(t);
    const s = await createSession(app.app, 'Host Night');
    const maya = await joinAs(app.app, s.id, 'Maya');
    const prank = await joinAs(app.app, s.id, 'Prank');
    await requestSong(app.app, s.id, maya.key, 'Valerie');
    await requestSong(app.app, s.id, prank.key, 'Noise');
    await requestSong(app.app, s.id, prank.key, 'More Noise');

    const context = await phoneContext(browser);
    context.setDefaultTimeout(WAIT_MS);
    const host = await context.newPage();
    const dialogs: string[] = [];
    host.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.accept();
    });
    await host.goto(`${url}/host/${s.id}#key=${s.hostKey}`);
    await expectText(host, '#link', /Live/);
    await expectText(host, '#singers-count', /^\(2 of 300\)$/);
    await expectText(host, '#singers', /Maya.*by phone · 1 queued/s);

    await host.getByText('Joining closed').click();
    await expectText(host, '#joins-note', /Joining is closed/);
    const refused = await request(app.app).post(`/api/sessions/${s.id}/singers`).send({ name: 'Late' });
    assert.equal(refused.body.error.code, 'joins_closed');
    await host.locator('#joins-group').scrollIntoViewIfNeeded();
    await screenshot(host, 'limits-host-joins-closed-390');

    // A new phone is told before it types anything; Maya's phone, already in, adds songs as before.
    const newcomer = await (await phoneContext(browser)).newPage();
    await newcomer.goto(`${url}/s/${s.id}`);
    await expectText(newcomer, '#request-notice', /^The host has closed joining for tonight\. Ask the host to add your song\.$/);
    await inViewport(newcomer, '#request-notice');
    assert.ok(await newcomer.locator('#request-submit').isDisabled());
    await screenshot(newcomer, 'limits-guest-joins-closed-390');
    const mayaPhone = await (await guestPhoneContext(browser, s.id, { ...maya, name: 'Maya' })).newPage();
    await mayaPhone.goto(`${url}/s/${s.id}`);
    await expectText(mayaPhone, '#me-name', /^Maya$/);
    assert.ok(await mayaPhone.locator('#request-notice').isHidden());
    assert.ok(await mayaPhone.locator('#request-submit').isEnabled());

    await host.locator('#walkin-name').fill('maya');
    await host.locator('#walkin-title').fill('Jolene');
    await host.locator('#walkin-form').getByRole('button', { name: 'Add' }).click();
    await expectText(host, '#walkin-same-text', /^Maya joined by phone\. Is this the same Maya\?$/);
    await inViewport(host, '#walkin-same-yes');
    await screenshot(host, 'limits-host-walkin-same-390');
    await host.getByRole('button', { name: "Same person: add to Maya's songs" }).click();
    // Her second song, placed by fair turns after Prank's first.
    await expectQueue(host, 'host', ['Maya: Valerie · Artist', 'Prank: Noise · Artist', 'Prank: More Noise · Artist', 'Maya: Jolene']);
    await expectText(host, '#singers', /Maya.*2 queued/s);

    await host.getByRole('button', { name: 'Remove Prank and their queued songs' }).click();
    await expectQueue(host, 'host', ['Maya: Valerie · Artist', 'Maya: Jolene']);
    assert.deepEqual(dialogs, ['Remove Prank and their 2 queued songs? Their phone can no longer add songs.']);
    await expectText(host, '#singers-count', /^\(1 of 300\)$/);
    const gone = await request(app.app).post(`/api/sessions/${s.id}/requests`).set(bearer(prank.key)).send({ title: 'Again' });
    assert.equal(gone.status, 401);
    await host.locator('#singers-card').scrollIntoViewIfNeeded();
    await screenshot(host, 'limits-host-singers-390');
  });
});
