// The TV across the room, in real headless Chromium at 1920×1080 and 1280×720: the singer on stage,
// the next five with their songs whatever their length, "+ N more", "Get ready" between songs, and
// the thank-you when the host closes requests; the guest's phone ends on the night's setlist; the
// host page writes the TV's address out.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { assertQuietConsoles, expectText, guestPhoneContext, phoneContext, screenshot, startNight, stepper } from './support/browser.js';
import { bearer, createSession, joinAs, requestSong } from './support/app.js';

const LONG_NAME = 'Bartholomew Alexander Montgomery-Smythe'.padEnd(40, 'x');
const LONG_TITLE = 'Total Eclipse of the Heart (Extended Twelve-Inch Remix) Live at the Royal Albert Hall, Remastered'.padEnd(120, '!');
const SCREENS = [
  { width: 1920, height: 1080, minPx: 28 },
  { width: 1280, height: 720, minPx: 18 },
] as const;

interface Shown {
  /** Visible text boxes smaller than the floor, as "text (px)". */
  small: string[];
  /** Elements poking out of the viewport on any side. */
  outside: string[];
  rows: number;
  text: string;
}

/** What a person in the room sees: text that is visible, and whether all of it is inside the screen. */
async function shown(page: Page, minPx: number): Promise<Shown> {
  return page.evaluate((minPx) => {
    const doc = (globalThis as any).document;
    const view = { w: (globalThis as any).innerWidth, h: (globalThis as any).innerHeight };
    const small: string[] = [];
    const outside: string[] = [];
    for (const el of doc.querySelectorAll('body *')) {
      const own = [...el.childNodes].some((n: any) => n.nodeType === 3 && n.textContent.trim() !== '');
      if (!own || el.closest('[hidden]') || el.checkVisibility?.() === false) continue;
      const box = el.getBoundingClientRect();
      if (box.width === 0 || box.height === 0) continue;
      const px = parseFloat((globalThis as any).getComputedStyle(el).fontSize);
      if (px < minPx) small.push(`${el.textContent.trim().slice(0, 30)} (${px.toFixed(1)} px)`);
      if (box.left < -1 || box.top < -1 || box.right > view.w + 1 || box.bottom > view.h + 1) outside.push(`${el.tagName}.${el.className}: ${el.textContent.trim().slice(0, 30)}`);
    }
    return { small, outside, rows: doc.querySelectorAll('#queue > li').length, text: doc.body.innerText as string };
  }, minPx);
}

/** Every text that is cut is cut with an ellipsis on one line, not wrapped out of its row. */
async function rowsAreOneLine(page: Page): Promise<void> {
  const lines = await page.locator('#queue > li').evaluateAll((rows) =>
    rows.map((row: any) => {
      const style = (globalThis as any).getComputedStyle(row);
      return Math.round(row.getBoundingClientRect().height / parseFloat(style.lineHeight));
    }),
  );
  assert.ok(lines.every((n) => n === 1), `rows of ${lines.join(', ')} lines`);
}

describe('the TV and the end of the night in the browser', () => {
  it('the TV at 1920×1080 and 1280×720: stage, five next, + N more, get ready, thank-you; the guest ends on the setlist', async (t) => {
    const night = await startNight(t);
    const { server, browser } = night;
    const { app } = server.app;
    const step = stepper(t);
    const session = await createSession(app, 'Friday Night at the Anchor');
    const host = bearer(session.hostKey);
    const post = (path: string, body: object) =>
      fetch(`${server.url}/api/sessions/${session.id}${path}`, { method: 'POST', headers: { ...host, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const patch = (body: object) =>
      fetch(`${server.url}/api/sessions/${session.id}`, { method: 'PATCH', headers: { ...host, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const singers = [LONG_NAME, 'Maya', 'Jonas', 'Ada', 'Carol', 'Dev', 'Ezra', 'Fatima'];
    const joined: { id: string; key: string; name: string }[] = [];
    for (const [i, name] of singers.entries()) {
      const singer = await joinAs(app, session.id, name);
      joined.push({ ...singer, name });
      await requestSong(app, session.id, singer.key, i === 0 ? LONG_TITLE : `Song number ${i}`, i === 0 ? 'A'.repeat(80) : 'Artist');
    }
    const tvs: Page[] = [];

    await step('between songs: "Get ready" with the first name, five rows and "+ 3 more", all inside the screen', async () => {
      for (const screen of SCREENS) {
        const context = await browser.newContext({ viewport: { width: screen.width, height: screen.height } });
        const tv = await night.open(context, `TV ${screen.width}`, `${server.url}/display/${session.id}`);
        tvs.push(tv);
        await expectText(tv, '#now-singer', new RegExp(`^Get ready, ${LONG_NAME}$`));
        await expectText(tv, '#queue-more', /^\+ 3 more$/);
        const seen = await shown(tv, screen.minPx);
        assert.equal(seen.rows, 5);
        assert.deepEqual(seen.outside, [], `${screen.width}: outside the screen`);
        assert.deepEqual(seen.small, [], `${screen.width}: text under ${screen.minPx} px`);
        await rowsAreOneLine(tv);
        assert.ok(await tv.locator('.next-song').first().evaluate((el: any) => el.scrollWidth > el.clientWidth), 'the long title is cut');
        assert.equal(await tv.locator('.next-song').first().evaluate((el: any) => (globalThis as any).getComputedStyle(el).textOverflow), 'ellipsis');
        assert.match(seen.text, /Scan to sing/);
        await screenshot(tv, `display-get-ready-${screen.width}`);
      }
    });

    await step('a 40-character name singing a 120-character title leaves the five next rows on screen', async () => {
      assert.equal((await post('/next', { outcome: 'sung', expectedCurrentId: null })).status, 200);
      for (const [i, tv] of tvs.entries()) {
        const screen = SCREENS[i]!;
        await expectText(tv, '#now-singer', new RegExp(`^${LONG_NAME}$`));
        await expectText(tv, '#queue-more', /^\+ 2 more$/);
        const seen = await shown(tv, screen.minPx);
        assert.equal(seen.rows, 5);
        assert.deepEqual(seen.outside, [], `${screen.width}: outside the screen`);
        assert.deepEqual(seen.small, [], `${screen.width}: text under ${screen.minPx} px`);
        await rowsAreOneLine(tv);
        await screenshot(tv, `display-long-${screen.width}`);
      }
    });

    let guest!: Page;
    await step('requests closed with songs left: the TV thanks the room and no longer says "Scan to sing"', async () => {
      // Maya's phone: once the night is over, the setlist is shown to the night's singers.
      guest = await night.open(await guestPhoneContext(browser, session.id, joined[1]!), 'guest', `${server.url}/s/${session.id}`);
      assert.equal((await patch({ status: 'closed' })).status, 200);
      for (const [i, tv] of tvs.entries()) {
        await expectText(tv, '#join-closed', /Thank you for singing!/);
        const seen = await shown(tv, SCREENS[i]!.minPx);
        assert.doesNotMatch(seen.text, /Scan to sing|Scan the code|you're next/i);
        assert.equal(seen.rows, 5);
        assert.deepEqual(seen.small, []);
      }
      await expectText(guest, '#night-over', /That's the night, thank you/);
      await expectText(guest, '#setlist-heading', /The songs sung tonight will show here/);
    });

    await step('the last song sung: a full-screen thank-you on the TV, the setlist on the phone, no offer to add a song', async () => {
      let current: string | null = ((await (await fetch(`${server.url}/api/sessions/${session.id}`)).json()) as { nowSinging: { id: string } }).nowSinging.id;
      while (current) {
        const res = await post('/next', { outcome: 'sung', expectedCurrentId: current });
        assert.equal(res.status, 200);
        current = ((await res.json()) as { nowSinging: { id: string } | null }).nowSinging?.id ?? null;
      }
      for (const [i, tv] of tvs.entries()) {
        const screen = SCREENS[i]!;
        await expectText(tv, '#night-over', /Thank you for singing!/);
        await expectText(tv, '#night-over-count', /^8 songs tonight$/);
        const seen = await shown(tv, screen.minPx);
        assert.doesNotMatch(seen.text, /Scan|you're next/i);
        assert.deepEqual(seen.outside, []);
        assert.deepEqual(seen.small, []);
        await screenshot(tv, `display-thank-you-${screen.width}`);
      }
      await expectText(guest, '#setlist-heading', /^Tonight, 8 songs:$/);
      await guest.locator('#setlist > li').nth(7).waitFor();
      assert.equal(await guest.locator('#setlist > li').count(), 8);
      assert.ok(await guest.locator('#night-over').isVisible());
      const text = await guest.evaluate(() => (globalThis as any).document.body.innerText as string);
      assert.doesNotMatch(text, /Add a song|you're next/i);
      assert.equal(await guest.locator('#request-card').isVisible(), false);
      await screenshot(guest, 'guest-night-over');
    });

    await step('the host page writes the TV address out beside "Open the TV screen"', async () => {
      const page = await night.open(await browser.newContext({ viewport: { width: 1280, height: 800 } }), 'host', `${server.url}/host/${session.id}`);
      const address = page.locator('#display-url');
      // The session's own address (PUBLIC_URL, else where it was created), as the QR code has it.
      const expected = session.displayUrl.replace(/^https?:\/\//, '');
      assert.match(expected, new RegExp(`/display/${session.id}$`));
      await expectText(page, '#display-url', new RegExp(`^${expected.replace(/\./g, '\\.')}$`));
      assert.ok(await address.isVisible());
      assert.ok(await address.evaluate((el: any) => parseFloat((globalThis as any).getComputedStyle(el).fontSize)) >= 24);
      const [link, text] = [await page.getByRole('link', { name: 'Open the TV screen' }).boundingBox(), await address.boundingBox()];
      assert.ok(link && text && Math.abs(link.x + link.width - (text.x + text.width)) < 40 && text.y - (link.y + link.height) < 60, 'beside the button');
    });

    await step('a deleted night: the TV and the phone say it has ended, and offer no song', async () => {
      assert.equal((await fetch(`${server.url}/api/sessions/${session.id}`, { method: 'DELETE', headers: host })).status, 204);
      await expectText(tvs[0]!, '#ended', /Thanks for singing/);
      assert.equal(await tvs[0]!.locator('#night-over').isVisible(), false);
      await expectText(guest, '#ended', /This karaoke night has ended/);
      const text = await guest.evaluate(() => (globalThis as any).document.body.innerText as string);
      assert.doesNotMatch(text, /Add a song|you're next/i);
    });

    assertQuietConsoles(night.watches);
  });
});
