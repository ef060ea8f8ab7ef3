// The smaller faults of a night, in real headless Chromium: a host key is checked before it is
// kept (and a link pasted into the open page's address bar works), a guest's new song and place
// are in view on a 320 px phone, quick setting changes are all saved and arrowing through the
// status radios sends one change, the landing page forgets deleted nights, right-to-left names
// keep their badge and lines in order, a guest undoes a cancel, and messages go with their cause.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Locator, Page, Request as PwRequest, Route } from 'playwright-core';
import { assertQuietConsoles, expectQueue, expectText, phoneContext, screenshot, startNight } from './support/browser.js';
import { bearer, createSession, joinAs, requestSong } from './support/app.js';

type Box = { top: number; bottom: number; left: number; right: number };

/** Whether the element is on screen now, wholly inside the viewport. */
async function inViewport(locator: Locator): Promise<{ inside: boolean; box: Box; height: number }> {
  return locator.evaluate((el: any) => {
    const r = el.getBoundingClientRect();
    const height = (globalThis as any).innerHeight as number;
    return { inside: r.height > 0 && r.top >= 0 && r.bottom <= height, box: { top: r.top, bottom: r.bottom, left: r.left, right: r.right }, height };
  });
}

async function assertInViewport(locator: Locator, what: string): Promise<void> {
  const seen = await inViewport(locator);
  assert.ok(seen.inside, `${what} is not inside the viewport: ${JSON.stringify(seen)}`);
}

async function stateOf(url: string, id: string): Promise<{ status: string; rotation: string; queue: { id: string; title: string; position: number }[] }> {
  return (await fetch(`${url}/api/sessions/${id}`)).json() as never;
}

describe('the smaller faults of a night, in the browser', () => {
  it('a host key or link is checked before it is kept; a link pasted into the open page works and leaves the address bar', async (t) => {
    const night = await startNight(t);
    const { server, browser } = night;
    const session = await createSession(server.app.app, 'Key Night');
    const other = await createSession(server.app.app, 'Another Night');
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await night.open(context, 'host', `${server.url}/host/${session.id}`);
    const saved = () => page.evaluate(`localStorage.getItem('karaoke:host:${session.id}')`).then((v) => (v ? (JSON.parse(String(v)) as { key: string }).key : null));
    await expectText(page, '#no-key-heading', /can't control this night yet/);

    // Another night's key: refused at once, nothing kept, the controls stay off.
    await page.getByLabel('Host link or key').fill(other.hostKey);
    await page.getByRole('button', { name: 'Use it' }).click();
    await expectText(page, '#key-error', /does not fit this night/);
    assert.equal(await saved(), null);
    const add = page.getByRole('button', { name: 'Add', exact: true });
    assert.equal(await add.isDisabled(), true);
    assert.equal(await page.getByLabel('Host link or key').getAttribute('aria-invalid'), 'true');
    // Another night's link says which night it is for, without asking the server.
    await page.getByLabel('Host link or key').fill(other.hostUrl);
    await page.getByRole('button', { name: 'Use it' }).click();
    await expectText(page, '#key-error', new RegExp(`for the night ${other.id}, not ${session.id}`));
    await screenshot(page, 'host-key-refused');
    for (const width of [390, 320]) {
      await page.setViewportSize({ width, height: 740 });
      assert.equal(await page.evaluate('document.documentElement.scrollWidth'), width);
      await screenshot(page, `host-key-refused-${width}`);
    }
    await page.setViewportSize({ width: 1280, height: 800 });

    // The right link pasted into the address bar of the page already open.
    await page.evaluate((hash) => {
      (globalThis as any).location.hash = hash;
    }, new URL(`${server.url}/host/${session.id}#key=${session.hostKey}`).hash);
    await page.locator('#no-key').waitFor({ state: 'hidden' });
    await page.waitForFunction(() => !(globalThis as any).document.querySelector('#walkin-form button').disabled);
    assert.equal(new URL(page.url()).hash, '', 'the key left the address bar');
    assert.equal(await saved(), session.hostKey);
    assert.equal(await page.locator('#key-error').isVisible(), false);

    // A wrong link pasted later does not replace the good key, and says so.
    await page.evaluate(() => {
      (globalThis as any).location.hash = '#key=not-the-key-of-this-night-at-all';
    });
    await expectText(page, '#no-key-heading', /That host link did not work/);
    await expectText(page, '#key-error', /does not fit this night/);
    assert.equal(new URL(page.url()).hash, '');
    assert.equal(await saved(), session.hostKey);
    assert.equal(await add.isDisabled(), false, 'the good key still runs the night');
    await page.getByRole('button', { name: "Keep this device's key" }).click();
    await page.locator('#no-key').waitFor({ state: 'hidden' });

    night.watches[0]!.allow(/status of 401/, 2);
    assertQuietConsoles(night.watches);
  });

  it('after a guest adds a song on a 320 px phone, the confirmation and their place are in view', async (t) => {
    const night = await startNight(t);
    const { server, browser } = night;
    const { app } = server.app;
    const session = await createSession(app, 'Small Phone Night');
    // Long titles make every box tall: the form is well below the place it reports.
    const long = (who: string) => `${who}'s song: Total Eclipse of the Heart (Extended Remix) Live at the Royal Albert Hall`;
    for (const name of ['Ana', 'Ben', 'Carl', 'Dina', 'Emil', 'Fay']) {
      const singer = await joinAs(app, session.id, name);
      await requestSong(app, session.id, singer.key, long(name), 'Bonnie Tyler and the Extended Family Orchestra');
    }
    const started = await fetch(`${server.url}/api/sessions/${session.id}/next`, {
      method: 'POST',
      headers: { ...bearer(session.hostKey), 'Content-Type': 'application/json' },
      body: JSON.stringify({ outcome: 'sung', expectedCurrentId: null }),
    });
    assert.equal(started.status, 200);
    const context = await browser.newContext({ viewport: { width: 320, height: 640 }, isMobile: true, hasTouch: true });
    const page = await night.open(context, 'guest 320', `${server.url}/s/${session.id}`);
    await expectText(page, '#link', /^Live$/);

    await page.getByLabel('Your name').fill('Zoë');
    await page.getByLabel('Song title').fill('Valerie (Live at the BBC Radio 1 Live Lounge, Acoustic Version with the Full Band)');
    await page.getByLabel('Artist').fill('Amy Winehouse and Mark Ronson');
    await page.getByRole('button', { name: 'Join and add my song' }).click();
    await expectText(page, '#request-done', /Added “Valerie .*”\. You're 6th in the queue\./);
    await expectText(page, '#you-headline', /^You're 6th, about \d+ minutes$/);
    await assertInViewport(page.locator('#request-done'), 'the first confirmation');
    await assertInViewport(page.locator('#you'), 'the first place');
    await page.screenshot({ path: 'test-artifacts/guest-320-added.png' });

    // The second song, from the form at the bottom of the folded card.
    await page.getByText('+ Add another song').click();
    await page.getByLabel('Song title').fill('Rehab (Live at the BBC Radio 1 Live Lounge, Acoustic Version with the Full Band)');
    await page.getByRole('button', { name: 'Add my song' }).click();
    await expectText(page, '#request-done', /Added “Rehab .*”\. You're 7th in the queue\./);
    await expectText(page, '#you-detail', /Then 1 more later/);
    await assertInViewport(page.locator('#request-done'), 'the second confirmation');
    await assertInViewport(page.locator('#you'), 'the place after the second song');
    await page.screenshot({ path: 'test-artifacts/guest-320-added-again.png' });
    assertQuietConsoles(night.watches);
  });

  it('quick setting changes while one is saving are all kept; arrowing through the status radios sends one change', async (t) => {
    const night = await startNight(t);
    const { server, browser } = night;
    const session = await createSession(server.app.app, 'Settings Night');
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await night.open(context, 'host', `${server.url}/host/${session.id}#key=${session.hostKey}`);
    await expectText(page, '#link', /^Live$/);
    await page.locator('#next').waitFor();
    await page.waitForFunction(() => (globalThis as any).document.querySelector('input[name="status"][value="open"]').checked);

    /** The PATCH bodies the page sends. */
    const patches: unknown[] = [];
    page.on('request', (req: PwRequest) => {
      if (req.method() === 'PATCH') patches.push(req.postDataJSON());
    });
    // The first save hangs until released, as on a slow network.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let first = true;
    await page.route(`**/api/sessions/${session.id}`, async (route: Route) => {
      if (route.request().method() === 'PATCH' && first) {
        first = false;
        await held;
      }
      await route.continue();
    });
    await page.getByLabel('Paused').check();
    await page.getByLabel('First come').check();
    // Both switches show what the host chose, though neither is saved yet.
    assert.equal(await page.getByLabel('Paused').isChecked(), true);
    assert.equal(await page.getByLabel('First come').isChecked(), true);
    release();
    await expectText(page, '#rotation-note', /^First come, first served$/);
    await expectText(page, '#status-pill', /^Requests paused$/);
    const saved = await stateOf(server.url, session.id);
    assert.equal(saved.status, 'paused');
    assert.equal(saved.rotation, 'fifo');
    assert.deepEqual(patches, [{ status: 'paused' }, { rotation: 'fifo' }]);
    await page.unroute(`**/api/sessions/${session.id}`);

    // By keyboard: from Paused two steps right to... Closed, then back to Open; the night only hears where it stopped.
    patches.length = 0;
    await page.getByLabel('Paused').focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.getByLabel('Closed', { exact: true }).isChecked(), true);
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.getByLabel('Open', { exact: true }).isChecked(), true);
    await expectText(page, '#status-pill', /^Requests open$/);
    assert.equal((await stateOf(server.url, session.id)).status, 'open');
    assert.deepEqual(patches, [{ status: 'open' }], 'one change, not one for each radio passed');
    // Arrowing away and back sends nothing; Tab out of the group sends where it stopped at once.
    patches.length = 0;
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('Tab');
    await expectText(page, '#status-pill', /^Requests closed$/);
    assert.deepEqual(patches, [{ status: 'closed' }]);
    assertQuietConsoles(night.watches);
  });

  it("the landing page's \"On this device\" list drops nights that no longer exist", async (t) => {
    const night = await startNight(t);
    const { server, browser } = night;
    const { app } = server.app;
    const kept = await createSession(app, 'Still On');
    const gone = await createSession(app, 'Deleted Night');
    const sung = await createSession(app, 'Sang Here Once');
    const context = await phoneContext(browser);
    const page = await night.open(context, 'landing', `${server.url}/`);
    await page.evaluate(
      ({ kept, gone, sung }) => {
        const at = (m: number) => new Date(Date.UTC(2026, 0, 1, 20, m)).toISOString();
        const ls = (globalThis as any).localStorage;
        ls.setItem(`karaoke:host:${kept.id}`, JSON.stringify({ key: kept.hostKey, name: 'Still On', savedAt: at(1) }));
        ls.setItem(`karaoke:host:${gone.id}`, JSON.stringify({ key: gone.hostKey, name: 'Deleted Night', savedAt: at(2) }));
        ls.setItem(`karaoke:flag:saved:${gone.id}`, '1');
        ls.setItem(`karaoke:guest:${sung.id}`, JSON.stringify({ key: 'k', singerId: 's', name: 'Ana', sessionName: 'Sang Here Once', savedAt: at(3) }));
      },
      { kept, gone, sung },
    );
    for (const id of [gone.id, sung.id]) {
      assert.equal((await fetch(`${server.url}/api/sessions/${id}`, { method: 'DELETE', headers: bearer(id === gone.id ? gone.hostKey : sung.hostKey) })).status, 204);
    }
    await page.reload();
    await expectText(page, '#mine-list', /Still On · you host/);
    await page.waitForFunction(() => (globalThis as any).document.querySelectorAll('#mine-list > li').length === 1);
    assert.deepEqual(await page.locator('#mine-list > li').allTextContents(), [`Still On · you host · ${kept.id}`]);
    const left = await page.evaluate(() => Object.keys((globalThis as any).localStorage).sort());
    assert.deepEqual(left, [`karaoke:host:${kept.id}`]);
    // Every night gone: the list goes too.
    assert.equal((await fetch(`${server.url}/api/sessions/${kept.id}`, { method: 'DELETE', headers: bearer(kept.hostKey) })).status, 204);
    await page.reload();
    await page.locator('#mine').waitFor({ state: 'hidden' });
    night.watches[0]!.allow(/status of 404/);
    assertQuietConsoles(night.watches);
  });

  it('right-to-left names: the "You" badge and the "Already sung" line keep their places', async (t) => {
    const night = await startNight(t);
    const { server, browser } = night;
    const { app } = server.app;
    const session = await createSession(app, 'ليلة الكاريوكي');
    const host = bearer(session.hostKey);
    const next = (expectedCurrentId: string | null) =>
      fetch(`${server.url}/api/sessions/${session.id}/next`, { method: 'POST', headers: { ...host, 'Content-Type': 'application/json' }, body: JSON.stringify({ outcome: 'sung', expectedCurrentId }) });
    const layla = await joinAs(app, session.id, 'ليلى!');
    const first = await requestSong(app, session.id, layla.key, 'أغنية الحب', 'فيروز');
    const noa = await joinAs(app, session.id, 'נועה (2)');
    await requestSong(app, session.id, noa.key, 'Jolene', 'Dolly Parton');
    await requestSong(app, session.id, layla.key, 'Hello', 'Adele');
    assert.equal((await next(null)).status, 200);
    assert.equal((await next(first.id)).status, 200);

    for (const width of [390, 320]) {
      const context = await browser.newContext({ viewport: { width, height: 740 }, isMobile: true, hasTouch: true });
      await context.addInitScript(
        ({ id, entry }) => (globalThis as any).localStorage.setItem(`karaoke:guest:${id}`, JSON.stringify(entry)),
        { id: session.id, entry: { key: layla.key, singerId: layla.id, name: 'ليلى!', sessionName: 'ليلة الكاريوكي', night: 1, savedAt: new Date().toISOString() } },
      );
      const page = await night.open(context, `guest ${width}`, `${server.url}/s/${session.id}`);
      await expectText(page, '#queue .item.mine .badge', /^You$/);
      // The badge comes after the name; the name's "!" ends it on its left, as Arabic is read.
      const row = await page.locator('#queue .item.mine p').first().evaluate((p: any) => {
        const name = p.querySelector('.singer');
        const badge = p.querySelector('.badge').getBoundingClientRect();
        const box = name.getBoundingClientRect();
        const range = (globalThis as any).document.createRange();
        const text = name.firstChild;
        range.setStart(text, text.length - 1);
        range.setEnd(text, text.length);
        const bang = range.getBoundingClientRect();
        return { name: [box.left, box.right], badge: [badge.left, badge.right], bang: [bang.left, bang.right] };
      });
      assert.ok(row.badge[0]! >= row.name[1]! - 1, `the badge after the name: ${JSON.stringify(row)}`);
      assert.ok(row.bang[0]! - row.name[0]! < 2, `"!" at the name's left end: ${JSON.stringify(row)}`);
      assert.equal(await page.evaluate('document.documentElement.scrollWidth'), width);
      await screenshot(page, `guest-rtl-${width}`);
    }

    const hostPage = await night.open(await browser.newContext({ viewport: { width: 390, height: 844 } }), 'host', `${server.url}/host/${session.id}#key=${session.hostKey}`);
    await expectText(hostPage, '#history', /أغنية الحب/);
    // "ليلى! · أغنية الحب · فيروز": the singer first (on the left, in this left-to-right page), then the song.
    const line = await hostPage.locator('#history > li').first().evaluate((li: any) => {
      const singer = li.querySelector('.singer').getBoundingClientRect();
      const text = [...li.childNodes].filter((n: any) => n.nodeType === 3).at(-1);
      const range = (globalThis as any).document.createRange();
      range.selectNodeContents(text);
      const song = range.getBoundingClientRect();
      return { singer: [singer.left, singer.right], song: [song.left, song.right] };
    });
    assert.ok(line.singer[1]! <= line.song[0]! + 1, `the singer before the song: ${JSON.stringify(line)}`);
    await hostPage.getByRole('button', { name: 'I saved it' }).click();
    await hostPage.locator('#history').scrollIntoViewIfNeeded();
    await hostPage.locator('#history').screenshot({ path: 'test-artifacts/host-rtl-history-390.png' });
    await hostPage.locator('#queue').screenshot({ path: 'test-artifacts/host-rtl-queue-390.png' });
    assertQuietConsoles(night.watches);
  });

  it("a guest's cancel can be undone from the guest page for 30 seconds: the song comes back in its place", async (t) => {
    const night = await startNight(t);
    const { server, browser } = night;
    const { app } = server.app;
    const session = await createSession(app, 'Undo Night');
    const ana = await joinAs(app, session.id, 'Ana');
    const maya = await joinAs(app, session.id, 'Maya');
    const ben = await joinAs(app, session.id, 'Ben');
    await requestSong(app, session.id, ana.key, 'Africa', 'Toto');
    const mine = await requestSong(app, session.id, maya.key, 'Dancing Queen', 'ABBA');
    await requestSong(app, session.id, ben.key, 'Zombie', 'The Cranberries');
    const context = await phoneContext(browser);
    await context.addInitScript(
      ({ id, entry }) => (globalThis as any).localStorage.setItem(`karaoke:guest:${id}`, JSON.stringify(entry)),
      { id: session.id, entry: { key: maya.key, singerId: maya.id, name: 'Maya', sessionName: 'Undo Night', night: 1, savedAt: new Date().toISOString() } },
    );
    await context.clock.install();
    const page = await night.open(context, 'guest Maya', `${server.url}/s/${session.id}`);
    const order = ['Ana: Africa · Toto', 'Maya: Dancing Queen · ABBA', 'Ben: Zombie · The Cranberries'];
    await expectQueue(page, 'guest', order);

    await page.getByRole('button', { name: 'Cancel “Dancing Queen”' }).click();
    await expectQueue(page, 'guest', ['Ana: Africa · Toto', 'Ben: Zombie · The Cranberries']);
    await expectText(page, '#undo-cancel', /Cancelled “Dancing Queen”\./);
    await assertInViewport(page.getByRole('button', { name: 'Undo' }), 'the Undo button');
    assert.equal(await page.evaluate(`document.activeElement?.id`), 'undo-cancel-button');
    await screenshot(page, 'guest-undo-cancel');
    await page.setViewportSize({ width: 320, height: 640 });
    await assertInViewport(page.getByRole('button', { name: 'Undo' }), 'the Undo button at 320 px');
    await screenshot(page, 'guest-undo-cancel-320');
    await page.getByRole('button', { name: 'Undo' }).click();
    await expectQueue(page, 'guest', order);
    await page.locator('#undo-cancel').waitFor({ state: 'hidden' });
    const back = await stateOf(server.url, session.id);
    assert.equal(back.queue[1]?.id, mine.id, 'the same request, in the same place');
    await expectText(page, '#you-headline', /^You're 2nd/);

    // Cancelled again and left alone: after 30 seconds the offer is gone.
    await page.getByRole('button', { name: 'Cancel “Dancing Queen”' }).click();
    await page.locator('#undo-cancel').waitFor();
    await page.clock.runFor(29_000);
    assert.equal(await page.locator('#undo-cancel').isVisible(), true, 'still offered at 29 s');
    await page.clock.runFor(1_500);
    await page.locator('#undo-cancel').waitFor({ state: 'hidden' });
    assertQuietConsoles(night.watches);
  });

  it('messages go when their cause is gone: "Can\'t reach the server" once live again, "You already have 3 songs" once one is sung', async (t) => {
    const night = await startNight(t);
    const { server, browser } = night;
    const { app } = server.app;
    const session = await createSession(app, 'Limits Night');
    const host = bearer(session.hostKey);
    const maya = await joinAs(app, session.id, 'Maya');
    for (const title of ['One', 'Two', 'Three']) await requestSong(app, session.id, maya.key, title);
    const context = await phoneContext(browser);
    await context.addInitScript(
      ({ id, entry }) => (globalThis as any).localStorage.setItem(`karaoke:guest:${id}`, JSON.stringify(entry)),
      { id: session.id, entry: { key: maya.key, singerId: maya.id, name: 'Maya', sessionName: 'Limits Night', night: 1, savedAt: new Date().toISOString() } },
    );
    const page = await night.open(context, 'guest Maya', `${server.url}/s/${session.id}`);
    await expectText(page, '#link', /^Live$/);

    await page.getByText('+ Add another song').click();
    await page.getByLabel('Song title').fill('Four');
    await page.getByRole('button', { name: 'Add my song' }).click();
    await expectText(page, '#request-error', /already have 3 songs/);
    // The host starts Maya's first song: she has two queued, and the limit no longer stands.
    const res = await fetch(`${server.url}/api/sessions/${session.id}/next`, { method: 'POST', headers: { ...host, 'Content-Type': 'application/json' }, body: JSON.stringify({ outcome: 'sung', expectedCurrentId: null }) });
    assert.equal(res.status, 200);
    await expectText(page, '#you-headline', /^You're singing now!$/);
    await page.locator('#request-error').waitFor({ state: 'hidden' });
    assert.equal(await page.getByLabel('Song title').inputValue(), 'Four', 'what was typed is still there');

    // The network drops: the failed send says so, and once the page is live again the message goes.
    await context.setOffline(true);
    await page.getByRole('button', { name: 'Add my song' }).click();
    await expectText(page, '#request-error', /Can't reach the server/);
    await context.setOffline(false);
    await server.stop();
    await server.start();
    await expectText(page, '#link', /^Live$/, 15_000);
    await page.locator('#request-error').waitFor({ state: 'hidden' });

    // The host page: a failed tap while offline, gone once live again.
    const hostContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const hostPage = await night.open(hostContext, 'host', `${server.url}/host/${session.id}#key=${session.hostKey}`);
    await expectText(hostPage, '#link', /^Live$/);
    await hostContext.setOffline(true);
    await hostPage.locator('#skip').click();
    await expectText(hostPage, '#stage-error', /Can't reach the server/);
    await hostContext.setOffline(false);
    await server.stop();
    await server.start();
    await expectText(hostPage, '#link', /^Live$/, 15_000);
    await hostPage.locator('#stage-error').waitFor({ state: 'hidden' });

    night.watches[0]!.allow(/status of 409/, 1);
    for (const watch of night.watches) watch.allow(/ERR_INTERNET_DISCONNECTED|ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|ERR_INCOMPLETE_CHUNKED_ENCODING/);
    assertQuietConsoles(night.watches);
  });
});
