// @ts-check
import { api, ApiError, messageFor } from './api.js';
import { h } from './dom.js';

/**
 * "Tell me when I'm up": a guest's opt-in to push notifications. The browser's permission is asked
 * only after the guest taps the button (browsers refuse, or block the site, otherwise). Where push
 * is not available the box says how to get it, and the page's own "You're next!" stays the alert.
 *
 * @typedef {{ key: string, singerId: string }} PushGuest
 */

const supported = () => 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
/** iOS gives web push only to Home Screen apps (16.4+); `navigator.standalone` says whether this is one. */
const isIos = () => /iPhone|iPad|iPod/.test(navigator.userAgent) || (navigator.platform === 'MacIntel' && navigator.maxTouchPoints > 1);
const standalone = () => /** @type {{ standalone?: boolean }} */ (navigator).standalone === true || matchMedia('(display-mode: standalone)').matches;

/** @param {string} text @param {string} cls @param {() => void} onClick @param {boolean} [disabled] */
function button(text, cls, onClick, disabled = false) {
  const el = h('button', { class: cls, type: 'button', disabled }, text);
  el.addEventListener('click', onClick);
  return el;
}

/** @param {string} base64url @returns {Uint8Array<ArrayBuffer>} */
function keyBytes(base64url) {
  const text = atob(base64url.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

/** @param {ArrayBuffer | null | undefined} a @param {Uint8Array} b */
function sameKey(a, b) {
  if (!a || a.byteLength !== b.length) return false;
  const bytes = new Uint8Array(a);
  return bytes.every((x, i) => x === b[i]);
}

export class PushOptIn {
  /**
   * @param {HTMLElement} box where the button and its messages go
   * @param {string} sessionId
   */
  constructor(box, sessionId) {
    this.box = box;
    this.base = `/api/sessions/${sessionId}/singers`;
    /** @type {PushGuest | null} */
    this.guest = null;
    /** The singer the subscription was last sent for: a new night's key sends it again. */
    this.sentFor = /** @type {string | null} */ (null);
    this.busy = false;
    this.error = '';
    /** @type {Promise<ServiceWorkerRegistration | null>} */
    this.registration = supported()
      ? navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => null)
      : Promise.resolve(null);
    /** The server's application key, or null when the server has push off. */
    this.serverKey = /** @type {Promise<Uint8Array<ArrayBuffer> | null>} */ (supported()
      ? api('GET', '/api/push/key').then((r) => (typeof r.publicKey === 'string' ? keyBytes(r.publicKey) : null), () => null)
      : Promise.resolve(null));
  }

  /** The guest of tonight (or null before they join); called on every render, so it does little when nothing changed. @param {PushGuest | null} guest */
  update(guest) {
    const changed = guest?.singerId !== this.guest?.singerId;
    this.guest = guest;
    if (changed) void this.refresh();
  }

  async refresh() {
    const guest = this.guest;
    if (!guest) return this.show(null);
    if (!supported()) {
      return this.show(
        isIos() && !standalone()
          ? h('p', { class: 'push-hint' }, 'Want a notification when you’re up? Add this page to your Home Screen (Share, then “Add to Home Screen”), open it from there and tap “Tell me when I’m up”. Until then, keep this page open: it shows when you’re next.')
          : h('p', { class: 'push-hint' }, 'This browser cannot send notifications. Keep this page open: it shows when you’re next.'),
      );
    }
    const [registration, key] = await Promise.all([this.registration, this.serverKey]);
    if (!registration || !key) return this.show(null);
    if (Notification.permission === 'denied') {
      return this.show(h('p', { class: 'push-hint' }, 'Notifications are blocked for this site. Allow them in your browser’s site settings, or keep this page open.'));
    }
    const subscription = await registration.pushManager.getSubscription();
    if (subscription && Notification.permission === 'granted' && sameKey(subscription.options.applicationServerKey, key)) {
      // Sent again at every load: Safari has answered "delivered" for endpoints long dead, and a new night means a new singer.
      if (this.sentFor !== guest.singerId) await this.send(guest, subscription).catch(() => {});
      return this.show(
        h('p', { class: 'push-on' }, 'You’ll get a notification when you’re up. ',
          button('Turn off', 'button small ghost', () => void this.turnOff())),
      );
    }
    return this.show(
      button(this.busy ? 'Asking…' : 'Tell me when I’m up', 'button wide', () => void this.turnOn(), this.busy),
    );
  }

  /** @param {Node | null} content */
  show(content) {
    const error = this.error ? h('p', { class: 'error', role: 'alert' }, this.error) : null;
    this.box.replaceChildren(...(content ? [content] : []), ...(error ? [error] : []));
    this.box.hidden = content === null && error === null;
  }

  /** @param {PushGuest} guest @param {PushSubscription} subscription */
  async send(guest, subscription) {
    await api('PUT', `${this.base}/${guest.singerId}/push`, { body: subscription.toJSON(), key: guest.key });
    this.sentFor = guest.singerId;
  }

  async turnOn() {
    const guest = this.guest;
    if (this.busy || !guest) return;
    this.busy = true;
    this.error = '';
    await this.refresh();
    try {
      // Asked here, inside the tap: the only moment browsers allow it.
      const permission = await Notification.requestPermission();
      const [registration, key] = await Promise.all([this.registration, this.serverKey]);
      if (permission === 'granted' && registration && key) {
        const old = await registration.pushManager.getSubscription();
        // A subscription made for other keys (the server's were replaced) cannot be used: make a new one.
        if (old && !sameKey(old.options.applicationServerKey, key)) await old.unsubscribe();
        await navigator.serviceWorker.ready;
        const subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
        await this.send(guest, subscription);
      }
    } catch (err) {
      this.error = err instanceof ApiError ? messageFor(err) : 'Notifications could not be turned on here. Keep this page open: it shows when you’re next.';
    } finally {
      this.busy = false;
      await this.refresh();
    }
  }

  async turnOff() {
    const guest = this.guest;
    const registration = await this.registration;
    const subscription = await registration?.pushManager.getSubscription();
    this.error = '';
    try {
      await subscription?.unsubscribe();
      if (guest) await api('DELETE', `${this.base}/${guest.singerId}/push`, { key: guest.key });
      this.sentFor = null;
    } catch (err) {
      this.error = messageFor(err);
    }
    await this.refresh();
  }
}
