// The guest page's opt-in and the service worker in real Chromium. Headless Chromium has no push
// service to subscribe with (its PushManager talks to Google's servers), so a push is dispatched
// to the registered worker through the DevTools protocol (ServiceWorker.deliverPushMessage).
// A tap on a notification cannot be made: the protocol has no way to click one (its ServiceWorker
// domain delivers pushes and sync events only), and a notificationclick the test dispatches itself
// is untrusted: its waitUntil throws and the browser refuses clients.openWindow and focus (no user
// activation). So the worker's own choice of window (tapAction) is run in the worker, on the real
// notification and the real windows, and its navigation is made for real.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CDPSession } from 'playwright-core';
import webpush from 'web-push';
import { launchBrowser, phoneContext } from './support/browser.js';
import { buildApp, createSession, joinAs, listen, requestSong } from './support/app.js';

/** The id DevTools gives the site's service worker registration, for deliverPushMessage. */
async function workerRegistration(cdp: CDPSession, url: string): Promise<string> {
  const registration = new Promise<string>((resolve) => {
    cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations: list }) => {
      const found = list.find((r) => r.scopeURL === `${url}/` && !r.isDeleted);
      if (found) resolve(found.registrationId);
    });
  });
  await cdp.send('ServiceWorker.enable');
  return registration;
}

describe('push notifications in the browser', () => {
  it('the guest page offers "Tell me when I\'m up", and its service worker shows every push as a notification', async (t) => {
    const app = await buildApp(t, {
      config: { push: { publicKey: undefined, privateKey: undefined, subject: 'mailto:tests@example.org', allowLocalEndpoints: false } },
      vapidKeys: webpush.generateVAPIDKeys(),
    });
    const { url } = await listen(t, app);
    const session = await createSession(app.app);
    const guest = await joinAs(app.app, session.id, 'Ana');
    await requestSong(app.app, session.id, guest.key, 'Valerie');

    const csp = (await fetch(`${url}/s/${session.id}`)).headers.get('content-security-policy') ?? '';
    assert.match(csp, /worker-src 'self'/);
    const manifest = (await (await fetch(`${url}/manifest.webmanifest`)).json()) as { display: string };
    assert.equal(manifest.display, 'standalone', 'iOS gives push only to Home Screen apps');

    const browser = await launchBrowser(t);
    const context = await phoneContext(browser);
    await context.grantPermissions(['notifications'], { origin: url });
    // This phone joined as Ana before (what saved.js keeps).
    const entry = { key: guest.key, singerId: guest.id, name: 'Ana', sessionName: 'Friday Night', night: 1, savedAt: new Date().toISOString() };
    await context.addInitScript(`localStorage.setItem(${JSON.stringify(`karaoke:guest:${session.id}`)}, ${JSON.stringify(JSON.stringify(entry))})`);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${url}/s/${session.id}`);
    const optIn = page.getByRole('button', { name: 'Tell me when I’m up' });
    await optIn.waitFor({ timeout: 10_000 });

    // The worker is registered by the page (CSP worker-src 'self' lets it run) at the site's root scope.
    const scope = await page.evaluate('navigator.serviceWorker.ready.then((r) => r.scope)');
    assert.equal(scope, `${url}/`);

    const cdp = await context.newCDPSession(page);
    const registrationId = await workerRegistration(cdp, url);

    const payload = { title: "You're up after this song", body: 'Get ready for “Valerie”.', url: `${url}/s/${session.id}`, tag: 'r1' };
    await cdp.send('ServiceWorker.deliverPushMessage', { origin: url, registrationId, data: JSON.stringify(payload) });
    // Even a push it cannot read shows something: iOS revokes subscriptions whose pushes show nothing.
    await cdp.send('ServiceWorker.deliverPushMessage', { origin: url, registrationId, data: 'not json' });

    let notifications: { title: string; body: string; tag: string; data: unknown }[] = [];
    for (let i = 0; notifications.length < 2; i += 1) {
      assert.ok(i < 100, `the worker showed ${notifications.length} of 2 notifications`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      notifications = await page.evaluate(
        'navigator.serviceWorker.ready.then((r) => r.getNotifications()).then((list) => list.map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data })))',
      );
    }
    const ours = notifications.find((n) => n.tag === 'r1');
    assert.deepEqual(ours, { title: payload.title, body: payload.body, tag: 'r1', data: { url: payload.url } });
    assert.ok(notifications.some((n) => n.title === 'Karaoke' && n.data && (n.data as { url: string }).url === `${url}/`));
    assert.deepEqual(errors, []);
  });

  it('a tap on a notification brings its guest page forward, or takes a guest or front page there, never the host\'s page or the TV', async (t) => {
    const app = await buildApp(t, {
      config: { push: { publicKey: undefined, privateKey: undefined, subject: 'mailto:tests@example.org', allowLocalEndpoints: false } },
      vapidKeys: webpush.generateVAPIDKeys(),
    });
    const { url } = await listen(t, app);
    const session = await createSession(app.app);
    const guestUrl = `${url}/s/${session.id}`;
    const browser = await launchBrowser(t);
    const context = await phoneContext(browser);
    await context.grantPermissions(['notifications'], { origin: url });
    const worker = context.waitForEvent('serviceworker');
    const guest = await context.newPage();
    await guest.goto(guestUrl);
    await guest.evaluate('navigator.serviceWorker.ready.then(() => undefined)');
    const sw = context.serviceWorkers()[0] ?? (await worker);

    const cdp = await context.newCDPSession(guest);
    const registrationId = await workerRegistration(cdp, url);
    // A payload naming another site: the notification still opens this one.
    const data = JSON.stringify({ title: "You're on! 🎤", body: '“Valerie”: the stage is yours.', url: `https://elsewhere.example/s/${session.id}`, tag: 'r1' });
    await cdp.send('ServiceWorker.deliverPushMessage', { origin: url, registrationId, data });
    const shown = `self.registration.getNotifications({ tag: 'r1' }).then((list) => list[0])`;
    for (let i = 0; !(await sw.evaluate(`${shown}.then(Boolean)`)); i += 1) {
      assert.ok(i < 100, 'the push showed no notification');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(await sw.evaluate(`${shown}.then((n) => n.data.url)`), guestUrl);
    const tap = () =>
      sw.evaluate(`${shown}.then(tapAction).then((a) =>
        'focus' in a ? { focus: a.focus.url } : 'navigate' in a ? { navigate: a.navigate.url, to: a.url } : { openWindow: a.openWindow })`);

    const host = await context.newPage();
    await host.goto(`${url}/host/${session.id}`);
    const tv = await context.newPage();
    await tv.goto(`${url}/display/${session.id}`);
    assert.deepEqual(await tap(), { focus: guestUrl }, 'the guest page is open: it comes forward');
    await guest.close();
    assert.deepEqual(await tap(), { openWindow: guestUrl }, 'the host\'s page and the TV are not taken away');

    const front = await context.newPage();
    await front.goto(`${url}/`);
    assert.deepEqual(await tap(), { navigate: `${url}/`, to: guestUrl });
    // The navigation the tap makes, made for real (focus after it needs the tap's user activation).
    await sw.evaluate(`${shown}.then(tapAction).then((a) => a.navigate.navigate(a.url)).then(() => undefined)`);
    await front.waitForURL(guestUrl);
    await front.getByRole('heading', { name: 'Friday Night' }).waitFor();
    assert.equal(host.url(), `${url}/host/${session.id}`);
    assert.equal(tv.url(), `${url}/display/${session.id}`);
  });
});
