// The guest page's opt-in and the service worker in real Chromium. Headless Chromium has no push
// service to subscribe with (its PushManager talks to Google's servers), so a push is dispatched
// to the registered worker through the DevTools protocol (ServiceWorker.deliverPushMessage).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import webpush from 'web-push';
import { launchBrowser, phoneContext } from './support/browser.js';
import { buildApp, createSession, joinAs, listen, requestSong } from './support/app.js';

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
    const registrations = new Promise<string>((resolve) => {
      cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations: list }) => {
        const found = list.find((r) => r.scopeURL === `${url}/` && !r.isDeleted);
        if (found) resolve(found.registrationId);
      });
    });
    await cdp.send('ServiceWorker.enable');
    const registrationId = await registrations;

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
});
