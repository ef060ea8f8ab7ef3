// The pages with a long night: the state carries the newest 20 songs, the pages say how many were
// sung and load the earlier ones when asked.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import request from 'supertest';
import type { Express } from 'express';
import { ARTIFACTS, assertQuietConsoles, expectText, guestPhoneContext, phoneContext, startNight, stepper } from './support/browser.js';
import { bearer, createSession, joinAs, requestSong } from './support/app.js';

/** `count` songs to history, every fourth skipped, and one more on stage. */
async function longNight(app: Express, id: string, hostKey: string, count: number): Promise<{ id: string; key: string; name: string }> {
  const singers = await Promise.all(['Ann', 'Ben', 'Cleo'].map((name) => joinAs(app, id, name)));
  await request(app).patch(`/api/sessions/${id}`).set(bearer(hostKey)).send({ maxQueuedPerSinger: 20 }).expect(200);
  for (let i = 0; i < count + 1; i += 1) await requestSong(app, id, singers[i % 3]!.key, `Song ${i + 1}`);
  for (let i = 0; i <= count; i += 1) {
    await request(app).post(`/api/sessions/${id}/next`).set(bearer(hostKey)).send(i > 0 && i % 4 === 0 ? { outcome: 'skipped' } : {}).expect(200);
  }
  return { ...singers[0]!, name: 'Ann' };
}

/** The card as a person sees it, in test-artifacts/NAME.png. */
async function shot(page: Page, selector: string, name: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.locator(selector).screenshot({ path: path.join(ARTIFACTS, `${name}.png`), animations: 'disabled' });
}

/** The text of each row of the list. */
async function rows(page: Page, selector: string): Promise<string[]> {
  return page.locator(`${selector} > li`).allTextContents();
}

describe('a long night on the pages', () => {
  it('the host sees "N sung tonight" and the newest 8, then the whole night; the guest\'s setlist pages back too', async (t) => {
    const night = await startNight(t);
    const { server, browser } = night;
    const { app } = server.app;
    const step = stepper(t);
    const session = await createSession(app, 'Long Night');
    const ann = await longNight(app, session.id, session.hostKey, 30);

    await step('host: "23 sung tonight, 7 skipped", songs 30 to 23 numbered by their place, then all 30', async () => {
      const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
      const host = await night.open(context, 'host', `${server.url}/host/${session.id}#key=${session.hostKey}`);
      await expectText(host, '#history-count', /^23 sung tonight, 7 skipped$/);
      await host.locator('#history > li').nth(7).waitFor();
      const shown = await rows(host, '#history');
      assert.equal(shown.length, 8);
      assert.match(shown[0]!, /Song 30/);
      assert.match(shown[7]!, /Song 23/);
      assert.equal(await host.locator('#history').getAttribute('start'), '30');
      const more = host.locator('#history-more');
      await more.scrollIntoViewIfNeeded();
      assert.ok(await more.isVisible());
      await shot(host, 'section:has(#history-heading)', 'history-host-390');
      await more.click();
      await host.locator('#history > li').nth(29).waitFor();
      const all = await rows(host, '#history');
      assert.equal(all.length, 30);
      assert.match(all[29]!, /Song 1\b/);
      assert.match(all.find((r) => r.includes('Song 8 '))!, /\(skipped\)/);
      assert.ok(await more.isHidden(), 'the whole night is shown: no more to load');
      const last = host.locator('#history > li').nth(29);
      await last.scrollIntoViewIfNeeded();
      assert.ok(await last.isVisible());
      await shot(host, 'section:has(#history-heading)', 'history-host-all-390');
      // A new song to history lands on top, counted.
      await request(app).post(`/api/sessions/${session.id}/next`).set(bearer(session.hostKey)).send({}).expect(200);
      await expectText(host, '#history-count', /^24 sung tonight, 7 skipped$/);
      await host.locator('#history > li').nth(30).waitFor();
      assert.match((await rows(host, '#history'))[0]!, /Song 31/);
    });

    await step('guest at 320 px, requests closed: "Tonight, 24 songs:" and every sung song after "Show earlier songs"', async () => {
      await request(app).patch(`/api/sessions/${session.id}`).set(bearer(session.hostKey)).send({ status: 'closed' }).expect(200);
      // The night is over (nothing on stage or queued): its names are read with a singer's key.
      const context = await guestPhoneContext(browser, session.id, ann);
      const guest = await night.open(context, 'guest', `${server.url}/s/${session.id}`);
      await guest.setViewportSize({ width: 320, height: 640 });
      await expectText(guest, '#setlist-heading', /^Tonight, 24 songs:$/);
      // The state's newest 20 songs (12 to 31) hold 15 sung ones.
      await guest.locator('#setlist > li').nth(14).waitFor();
      assert.equal((await rows(guest, '#setlist')).length, 15);
      const more = guest.locator('#setlist-more');
      await more.scrollIntoViewIfNeeded();
      assert.ok(await more.isVisible());
      await shot(guest, '#night-over', 'history-guest-320');
      await more.click();
      await guest.locator('#setlist > li').nth(23).waitFor();
      const all = await rows(guest, '#setlist');
      assert.equal(all.length, 24);
      assert.match(all[0]!, /Song 1 · Artist$/, 'oldest first');
      assert.match(all[23]!, /Song 31 · Artist$/);
      assert.ok(!all.some((r) => /Song (4|8|12|16|20|24|28) ·/.test(r)), 'skipped songs are not in the setlist');
      assert.ok(await more.isHidden());
      await shot(guest, '#night-over', 'history-guest-all-320');
    });

    await step('someone with only the code, once the night is over: the thank-you and the count, no names, no songs', async () => {
      const stranger = await night.open(await phoneContext(browser), 'stranger', `${server.url}/s/${session.id}`);
      await expectText(stranger, '#setlist-heading', /^24 songs were sung tonight\.$/);
      assert.ok(await stranger.locator('#night-over').isVisible());
      assert.equal(await stranger.locator('#setlist > li').count(), 0);
      assert.ok(await stranger.locator('#setlist-more').isHidden(), 'nothing to load without a key');
      const text = await stranger.evaluate(() => (globalThis as any).document.body.innerText as string);
      assert.doesNotMatch(text, /Ann|Ben|Cleo|Song \d/);
    });

    assertQuietConsoles(night.watches);
  });
});
