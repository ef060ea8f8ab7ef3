// A karaoke night as people live it, in real headless Chromium against a real server: the host
// creates the night, two guests on phones join through the URL read from the QR image, and every
// page follows the queue live, through a host's clicks and a server restart.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import {
  assertQuietConsoles,
  decodeQrAt,
  expectQueue,
  expectText,
  phoneContext,
  screenshot,
  startNight,
  stepper,
} from './support/browser.js';
import { bearer, createSession, joinAs, requestSong } from './support/app.js';

const XSS = '<img src=x onerror=alert(1)>';
// A restart takes the stream's retry delay (2 s) plus Chromium's own backoff.
const RECONNECT_MS = 15_000;

/** Record vibrations: a headless browser has no motor, so the call itself is what can be checked. */
const RECORD_VIBRATIONS = `
  window.__vibrations = [];
  navigator.vibrate = (pattern) => { window.__vibrations.push(pattern); return true; };
`;

describe('the pages in real browsers', () => {
  it('a night in real browsers: create, join by QR, fair queue, live updates, cancel, XSS, restart', async (t) => {
    const night = await startNight(t);
    const { server, browser } = night;
    const step = stepper(t);

    let host!: Page;
    let display!: Page;
    let maya!: Page;
    let jonas!: Page;
    let sessionId = '';
    let joinUrl = '';

    await step('the host creates a night on the landing page and lands on the host page', async () => {
      const hostContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      host = await night.open(hostContext, 'landing/host', `${server.url}/`);
      await screenshot(host, 'landing');
      await host.getByLabel('Name of the night').fill('Friday Night at the Anchor');
      await host.getByRole('button', { name: 'Start the night' }).click();
      await host.waitForURL(/\/host\/[2-9A-Z]{6}$/);
      // The key left the address bar but stayed on the device, and is offered as a link to save.
      assert.equal(new URL(host.url()).hash, '');
      sessionId = new URL(host.url()).pathname.split('/').pop()!;
      await expectText(host, '#session-name', /^Friday Night at the Anchor$/);
      const hostLink = await host.locator('#host-link').inputValue();
      assert.match(hostLink, new RegExp(`^${server.url}/host/${sessionId}#key=[A-Za-z0-9_-]{20,}$`));
      assert.ok(await host.getByRole('heading', { name: 'Save your host link' }).isVisible());
      assert.equal(await host.evaluate(`localStorage.getItem('karaoke:host:${sessionId}')`).then((v) => JSON.parse(String(v)).key), hostLink.split('#key=')[1]);
      await screenshot(host, 'host-save-link');
      await host.getByRole('button', { name: 'I saved it' }).click();
      await host.getByRole('heading', { name: 'Save your host link' }).waitFor({ state: 'hidden' });
      // Back on the landing page, the night is one tap away.
      const landing = await night.open(hostContext, 'landing again', `${server.url}/`);
      await expectText(landing, '#mine-list', /Friday Night at the Anchor · you host/);
      await landing.close();
      await expectText(host, '#link', /^Live$/);
      display = await night.open(await browser.newContext({ viewport: { width: 1280, height: 720 } }), 'display', `${server.url}/display/${sessionId}`);
      await expectText(display, '#session-name', /^Friday Night at the Anchor$/);
      await expectText(display, '#join-code', new RegExp(`^${sessionId}$`));
    });

    await step('guests join through the URL in the QR image and see the night before giving a name', async () => {
      joinUrl = await decodeQrAt(`${server.url}/qr-codes/${sessionId}.png`);
      assert.equal(joinUrl, `${server.url}/s/${sessionId}`);
      const mayaContext = await phoneContext(browser);
      const jonasContext = await phoneContext(browser);
      await jonasContext.addInitScript({ content: RECORD_VIBRATIONS });
      maya = await night.open(mayaContext, 'guest Maya', joinUrl);
      jonas = await night.open(jonasContext, 'guest Jonas', joinUrl);
      await expectText(maya, '#session-name', /^Friday Night at the Anchor$/);
      await expectText(maya, '#now', /Nobody yet/);
      assert.ok(await maya.getByLabel('Your name').isVisible());
      // No field grabs the focus on arrival: a phone keyboard would cover the queue.
      assert.equal(await maya.evaluate('document.activeElement === document.body'), true);
    });

    await step('two guests request songs and every page shows them in fair order without a reload', async () => {
      await maya.getByLabel('Your name').fill('Maya');
      await maya.getByLabel('Song title').fill('Dancing Queen');
      await maya.getByLabel('Artist').fill('ABBA');
      await maya.getByRole('button', { name: 'Join and add my song' }).click();
      await expectText(maya, '#request-done', /Added “Dancing Queen”\. You're next!/);
      // The name is asked once; the form keeps the guest signed in.
      assert.equal(await maya.getByLabel('Your name').isVisible(), false);
      await expectText(maya, '#me', /^You sing as Maya$/);
      // The form folded away once Maya had a song queued.
      await maya.getByText('+ Add another song').click();
      // A function, not a string: Playwright evals a string predicate again on every poll after
      // the first, and the page's CSP (no 'unsafe-eval') refuses that.
      await maya.waitForFunction(() => (globalThis as any).document.activeElement?.id === 'title');
      await maya.getByLabel('Song title').fill(XSS);
      await maya.getByRole('button', { name: 'Add my song' }).click();
      await expectText(maya, '#request-done', /You're 2nd in the queue/);

      await jonas.getByLabel('Your name').fill('Jonas');
      await jonas.getByLabel('Song title').fill('Africa');
      await jonas.getByLabel('Artist').fill('Toto');
      await jonas.getByRole('button', { name: 'Join and add my song' }).click();
      // Fair turns: Jonas's first song goes ahead of Maya's second.
      await expectText(jonas, '#request-done', /You're 2nd in the queue/);

      const order = ['Maya: Dancing Queen · ABBA', 'Jonas: Africa · Toto', `Maya: ${XSS}`];
      await expectQueue(host, 'host', order);
      await expectQueue(display, 'display', order);
      await expectQueue(maya, 'guest', order);
      await expectQueue(jonas, 'guest', order);
      await expectText(jonas, '#you-headline', /^You're 2nd, about 4 minutes$/);
    });

    await step('a title with HTML in it is shown as text on every page', async () => {
      for (const page of [host, display, maya, jonas]) {
        await expectText(page, '#queue', /<img src=x onerror=alert\(1\)>/);
        assert.equal(await page.locator('#queue img').count(), 0, `${page.url()} made an element from a title`);
      }
      assert.equal(await maya.locator('#queue .item.mine').count(), 2, "Maya's own songs are highlighted");
    });

    await step('the host starts the first song and every page follows', async () => {
      await host.locator('#next').click();
      await expectText(display, '#now-singer', /^Maya$/);
      await expectText(display, '#now-song', /^Dancing Queen · ABBA$/);
      await display.locator('#now.changed').waitFor();
      await expectText(maya, '#you-headline', /^You're singing now!$/);
      await expectText(jonas, '#you-headline', /^You're up next!$/);
      assert.match(await jonas.title(), /^🎤 You're next!/);
      assert.deepEqual(await jonas.evaluate('window.__vibrations'), [[300, 150, 300]]);
      const order = ['Jonas: Africa · Toto', `Maya: ${XSS}`];
      await expectQueue(host, 'host', order);
      await expectQueue(display, 'display', order);
      await expectText(host, '#now', /Maya/);
    });

    await step('a guest cancels a request and it leaves every page', async () => {
      await maya.getByRole('button', { name: `Cancel “${XSS}”` }).click();
      for (const [page, kind] of [[host, 'host'], [display, 'display'], [maya, 'guest'], [jonas, 'guest']] as const) {
        await expectQueue(page, kind, ['Jonas: Africa · Toto']);
      }
    });

    await step('the host adds a walk-in and moves it up; the guest sees the new position and wait', async () => {
      await host.locator('#walkin-name').fill('Carol');
      await host.locator('#walkin-title').fill('Zombie');
      await host.locator('#walkin-artist').fill('The Cranberries');
      await host.getByRole('button', { name: 'Add', exact: true }).click();
      await expectQueue(display, 'display', ['Jonas: Africa · Toto', 'Carol: Zombie · The Cranberries']);
      // By keyboard: the focus stays with the song that moved, on its first button that still works.
      await host.getByRole('button', { name: 'Move “Zombie” by Carol up' }).focus();
      await host.keyboard.press('Enter');
      await expectQueue(display, 'display', ['Carol: Zombie · The Cranberries', 'Jonas: Africa · Toto']);
      await host.waitForFunction(() => (globalThis as any).document.activeElement?.getAttribute('aria-label') === 'Move “Zombie” by Carol down');
      await expectText(jonas, '#you-headline', /^You're 2nd, about 8 minutes$/);
      assert.doesNotMatch(await jonas.title(), /next/);
      await maya.getByText('+ Add another song').click();
      await maya.getByLabel('Song title').fill('Total Eclipse of the Heart');
      await maya.getByLabel('Artist').fill('Bonnie Tyler');
      await maya.getByRole('button', { name: 'Add my song' }).click();
      const order = ['Carol: Zombie · The Cranberries', 'Jonas: Africa · Toto', 'Maya: Total Eclipse of the Heart · Bonnie Tyler'];
      await expectQueue(host, 'host', order);
      await expectQueue(display, 'display', order);
      await host.evaluate('document.activeElement?.blur()');
      await screenshot(host, 'host', 'host');
      await screenshot(display, 'display', 'display');
      await screenshot(maya, 'guest-singing');
    });

    await step('a guest who reloads the page is still the same singer', async () => {
      await jonas.reload();
      await expectText(jonas, '#me', /^You sing as Jonas$/);
      await expectText(jonas, '#you-headline', /^You're 2nd, about 8 minutes$/);
      assert.equal(await jonas.locator('#queue .item.mine .singer').textContent(), 'Jonas');
      // With a song queued, the form starts folded and the queue is in view.
      assert.equal(await jonas.getByLabel('Song title').isVisible(), false);
      await screenshot(jonas, 'guest-waiting', 'guest');
    });

    await step('errors are explained and the form keeps what was typed', async () => {
      await jonas.getByText('+ Add another song').click();
      await jonas.getByLabel('Song title').fill('africa');
      await jonas.getByLabel('Artist').fill('TOTO');
      await jonas.getByRole('button', { name: 'Add my song' }).click();
      await expectText(jonas, '#request-error', /already requested that song/);
      assert.equal(await jonas.getByLabel('Song title').inputValue(), 'africa');
      assert.equal(await jonas.getByLabel('Artist').inputValue(), 'TOTO');
      await screenshot(jonas, 'guest-error');
      night.watches.find((w) => w.name === 'guest Jonas')!.allow(/status of 409/, 1);

      await host.getByLabel('Paused').check();
      await expectText(jonas, '#request-notice', /paused requests/);
      assert.equal(await jonas.getByRole('button', { name: 'Add my song' }).isDisabled(), true);
      await expectText(display, '#status-pill', /^Requests paused$/);
      await host.getByLabel('Open', { exact: true }).check();
      await jonas.getByRole('button', { name: 'Add my song' }).waitFor({ state: 'visible' });
      await jonas.waitForFunction(() => !(globalThis as any).document.getElementById('request-submit').disabled);
      assert.equal(await jonas.getByLabel('Song title').inputValue(), 'africa');
    });

    await step('every page survives a server restart: it shows reconnecting, then the same state, then follows again', async () => {
      const pages = [host, display, maya, jonas];
      await server.stop();
      for (const page of pages) await expectText(page, '#link', /^Reconnecting…$/);
      await screenshot(jonas, 'guest-reconnecting');
      await server.start();
      for (const page of pages) await expectText(page, '#link', /^Live$/, RECONNECT_MS);
      const order = ['Carol: Zombie · The Cranberries', 'Jonas: Africa · Toto', 'Maya: Total Eclipse of the Heart · Bonnie Tyler'];
      await expectQueue(display, 'display', order);
      await expectQueue(jonas, 'guest', order);
      await expectText(display, '#now-singer', /^Maya$/);
      // Still live, not just repainted: the next change reaches every page.
      await host.locator('#next').click();
      await expectText(display, '#now-singer', /^Carol$/);
      await expectText(jonas, '#you-headline', /^You're up next!$/);
      await expectQueue(maya, 'guest', order.slice(1));
      await screenshot(jonas, 'guest-next');
      await screenshot(display, 'display-next');
    });

    // Network errors while the server was down are the browser's, not the page's.
    for (const watch of night.watches) watch.allow(/ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|ERR_INCOMPLETE_CHUNKED_ENCODING/);
    assertQuietConsoles(night.watches);
  });

  it('pages for a wrong code, a device without the host key, a small screen and an ended night', async (t) => {
    const night = await startNight(t);
    const { server, browser } = night;
    const app = server.app.app;
    const session = await createSession(app, 'Karaoke Tuesday');
    const ana = await joinAs(app, session.id, 'Ana');
    await requestSong(app, session.id, ana.key, 'A song with a rather long title that has to wrap on a small phone', 'Somebody');
    const phone = await phoneContext(browser);
    let keyedHost!: Page;
    const landing = await night.open(phone, 'landing on a phone', `${server.url}/`);
    await expectText(landing, 'h1', /Karaoke Queue/);
    await screenshot(landing, 'landing-phone', 'landing');
    await landing.close();

    await t.test('an unknown code shows the not-found page, which helps type the right one', async () => {
      const page = await night.open(phone, 'not found', `${server.url}/s/ZZZZZZ`);
      await expectText(page, 'h1', /can't find that night/);
      await screenshot(page, 'not-found');
      const code = page.getByLabel('Code from the screen');
      await code.fill('hello');
      await page.getByRole('button', { name: 'Join' }).click();
      await expectText(page, '#join-error', /6 letters and digits/);
      await code.fill('ZZZZZ2');
      await page.getByRole('button', { name: 'Join' }).click();
      await expectText(page, '#join-error', /No night with the code ZZZZZ2/);
      await code.fill(` ${session.id.toLowerCase().slice(0, 3)} ${session.id.toLowerCase().slice(3)} `);
      await page.getByRole('button', { name: 'Join' }).click();
      await page.waitForURL(`${server.url}/s/${session.id}`);
      await expectText(page, '#session-name', /^Karaoke Tuesday$/);
      // The 404 page itself, and the lookup of the code that does not exist.
      const watch = night.watches.find((w) => w.name === 'not found')!;
      watch.allow(/status of 404/, 2);
    });

    await t.test('the host page without the key shows the queue but no control, until the host link is given', async () => {
      const page = await night.open(await browser.newContext({ viewport: { width: 1280, height: 800 } }), 'host without key', `${server.url}/host/${session.id}`);
      await expectText(page, '#no-key-heading', /can't control this night yet/);
      await expectQueue(page, 'host', ['Ana: A song with a rather long title that has to wrap on a small phone · Somebody']);
      assert.equal(await page.locator('#next').isDisabled(), true);
      assert.equal(await page.getByRole('button', { name: /^Remove/ }).isDisabled(), true);
      await page.getByLabel('Host link or key').fill(session.hostUrl);
      await page.getByRole('button', { name: 'Use it' }).click();
      await page.locator('#no-key').waitFor({ state: 'hidden' });
      // The box goes as soon as the key is being checked; the controls come on once the server took it.
      await page.locator('#next:enabled').waitFor();
      await page.locator('#next').click();
      await expectText(page, '#now', /Ana/);
      keyedHost = page;
    });

    await t.test('the guest page fits a 320 px screen (a 640 px phone at 200% zoom) without sideways scrolling', async () => {
      const small = await browser.newContext({ viewport: { width: 320, height: 640 }, isMobile: true, hasTouch: true });
      const page = await night.open(small, 'guest 320px', `${server.url}/s/${session.id}`);
      await expectText(page, '#now', /Ana/);
      assert.equal(await page.evaluate('document.documentElement.scrollWidth'), 320);
      await screenshot(page, 'guest-320');
      const host = await night.open(small, 'host 640px', `${server.url}/host/${session.id}`);
      await host.setViewportSize({ width: 640, height: 800 });
      await expectText(host, '#session-name', /^Karaoke Tuesday$/);
      assert.equal(await host.evaluate('document.documentElement.scrollWidth'), 640);
    });

    await t.test('the host renames the night and switches to first come; guests see the new name at once', async () => {
      const guest = await night.open(phone, 'guest sees rename', `${server.url}/s/${session.id}`);
      await expectText(guest, '#session-name', /^Karaoke Tuesday$/);
      await keyedHost.getByLabel('First come').check();
      await expectText(keyedHost, '#rotation-note', /^First come, first served$/);
      await keyedHost.getByLabel('Name of the night').fill('Karaoke Wednesday');
      await keyedHost.getByRole('button', { name: 'Save changes' }).click();
      await expectText(keyedHost, '#settings-done', /^Saved\.$/);
      await expectText(guest, '#session-name', /^Karaoke Wednesday$/);
      assert.match(await guest.title(), /^Karaoke Wednesday/);
    });

    await t.test('a guest whose network drops is told so, and the song typed is still there to send again', async () => {
      const offline = await phoneContext(browser);
      const page = await night.open(offline, 'guest offline', `${server.url}/s/${session.id}`);
      await expectText(page, '#link', /^Live$/);
      await page.getByLabel('Your name').fill('Ben');
      await page.getByLabel('Song title').fill('Valerie');
      await offline.setOffline(true);
      await page.getByRole('button', { name: 'Join and add my song' }).click();
      await expectText(page, '#request-error', /Can't reach the server/);
      assert.equal(await page.getByLabel('Your name').inputValue(), 'Ben');
      assert.equal(await page.getByLabel('Song title').inputValue(), 'Valerie');
      await offline.setOffline(false);
      await page.getByRole('button', { name: 'Join and add my song' }).click();
      await expectText(page, '#request-done', /Added “Valerie”/);
      night.watches.find((w) => w.name === 'guest offline')!.allow(/ERR_INTERNET_DISCONNECTED/);
    });

    await t.test('the web app manifest and its icons are served', async () => {
      const res = await fetch(`${server.url}/manifest.webmanifest`);
      assert.equal(res.status, 200);
      const manifest = (await res.json()) as { name: string; icons: { src: string; sizes: string; type: string }[] };
      assert.equal(manifest.name, 'Karaoke Queue');
      for (const size of ['192x192', '512x512']) assert.ok(manifest.icons.some((i) => i.sizes === size), `an icon of ${size}`);
      for (const icon of manifest.icons) {
        const got = await fetch(new URL(icon.src, server.url));
        assert.equal(got.status, 200, icon.src);
        assert.equal(got.headers.get('content-type')?.split(';')[0], icon.type, icon.src);
      }
    });

    await t.test('a state older than the one shown is ignored', async () => {
      const page = await night.open(phone, 'version order', `${server.url}/s/${session.id}`);
      const applied = await page.evaluate(`(async () => {
      const { LiveSession } = await import('/js/api.js');
      const seen = [];
      const live = new LiveSession('${session.id}', { onState: (s) => seen.push(s.version) });
      const state = (version) => ({ version, generatedAt: new Date().toISOString() });
      live.apply(state(5));
      live.apply(state(4));
      live.apply(state(6));
      return seen;
    })()`);
      assert.deepEqual(applied, [5, 6]);
    });

    await t.test('when the host deletes the night, open pages say it has ended', async () => {
      const guest = await night.open(phone, 'guest at the end', `${server.url}/s/${session.id}`);
      const display = await night.open(await browser.newContext({ viewport: { width: 1280, height: 720 } }), 'display at the end', `${server.url}/display/${session.id}`);
      await expectText(guest, '#link', /^Live$/);
      await expectText(display, '#link', /^Live$/);
      const res = await fetch(`${server.url}/api/sessions/${session.id}`, { method: 'DELETE', headers: bearer(session.hostKey) });
      assert.equal(res.status, 204);
      await expectText(guest, '#ended', /has ended/);
      await expectText(display, '#ended', /Thanks for singing/);
    });

    assertQuietConsoles(night.watches);
  });
});
