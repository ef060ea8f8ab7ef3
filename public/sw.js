// @ts-check
// The service worker: shows the server's push notifications ("You're up after this song") and
// opens the guest page when one is tapped. It caches nothing: the pages stay live over their
// event streams. Every push shows a notification, even one it cannot read: iOS revokes the
// subscription of a site whose pushes show nothing.

/**
 * The pages' type-check knows the DOM, not the worker's globals; what is used here, spelled out.
 * @typedef {{ waitUntil(promise: Promise<unknown>): void }} SwExtendableEvent
 * @typedef {SwExtendableEvent & { data: { json(): any } | null }} SwPushEvent
 * @typedef {SwExtendableEvent & { notification: Notification }} SwNotificationEvent
 * @typedef {{ url: string, focus(): Promise<unknown>, navigate(url: string): Promise<SwWindowClient | null> }} SwWindowClient
 * @typedef {{ matchAll(options: { type: 'window', includeUncontrolled: boolean }): Promise<SwWindowClient[]>, openWindow(url: string): Promise<unknown>, claim(): Promise<void> }} SwClients
 * @typedef {{
 *   registration: ServiceWorkerRegistration,
 *   clients: SwClients,
 *   location: Location,
 *   skipWaiting(): Promise<void>,
 *   addEventListener(type: 'push', listener: (event: SwPushEvent) => void): void,
 *   addEventListener(type: 'notificationclick', listener: (event: SwNotificationEvent) => void): void,
 *   addEventListener(type: 'install' | 'activate', listener: (event: SwExtendableEvent) => void): void,
 * }} SwScope
 */

const worker = /** @type {SwScope} */ (/** @type {unknown} */ (self));

worker.addEventListener('install', (event) => event.waitUntil(worker.skipWaiting()));
worker.addEventListener('activate', (event) => event.waitUntil(worker.clients.claim()));

/** A page of this site to open: the payload's, kept to our own origin. */
function pageUrl(/** @type {unknown} */ raw) {
  if (typeof raw !== 'string' || !URL.canParse(raw, worker.location.origin)) return new URL('/', worker.location.origin).href;
  const url = new URL(raw, worker.location.origin);
  return url.origin === worker.location.origin ? url.href : new URL(url.pathname, worker.location.origin).href;
}

worker.addEventListener('push', (event) => {
  /** @type {{ title?: unknown, body?: unknown, url?: unknown, tag?: unknown }} */
  let message = {};
  try {
    message = event.data?.json() ?? {};
  } catch {
    // Unreadable: still show something (see the top of this file).
  }
  const title = typeof message.title === 'string' ? message.title : 'Karaoke';
  event.waitUntil(
    worker.registration.showNotification(title, {
      body: typeof message.body === 'string' ? message.body : 'Something changed in the queue.',
      // One notification per song: "on stage" replaces "up next" rather than piling up.
      tag: typeof message.tag === 'string' ? message.tag : undefined,
      icon: '/icons/icon-192.png',
      badge: '/icons/icon-192.png',
      data: { url: pageUrl(message.url) },
    }),
  );
});

/** Pages a tap may take elsewhere: a guest page or the front page, never the host's page or the TV. */
const GUEST_PAGE = /^\/(s\/[^/]+\/?)?$/;

/**
 * What a tap on a notification does with the windows of this site that are open: bring forward
 * the page it is about, else take a guest page or the front page there, else open a new window.
 * @param {Notification} notification
 * @returns {Promise<{ focus: SwWindowClient } | { navigate: SwWindowClient, url: string } | { openWindow: string }>}
 */
async function tapAction(notification) {
  const url = pageUrl(notification.data?.url);
  const open = await worker.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const path = new URL(url).pathname;
  const same = open.find((c) => new URL(c.url).pathname === path);
  if (same) return { focus: same };
  const guest = open.find((c) => GUEST_PAGE.test(new URL(c.url).pathname));
  return guest ? { navigate: guest, url } : { openWindow: url };
}

worker.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(
    tapAction(event.notification).then((action) => {
      if ('focus' in action) return action.focus.focus();
      // The window after navigating is a new client (null if the browser will not say).
      if ('navigate' in action) return action.navigate.navigate(action.url).then((client) => (client ?? action.navigate).focus());
      return worker.clients.openWindow(action.openWindow);
    }),
  );
});
