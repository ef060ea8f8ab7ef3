// @ts-check
import { api, ApiError, probe } from './api.js';

/**
 * @typedef {import('./types.js').PublicState} PublicState
 * @typedef {import('./types.js').LinkStatus} LinkStatus
 * @typedef {{
 *   onState: (state: PublicState, previous: PublicState | null) => void,
 *   onStatus?: (status: LinkStatus) => void,
 *   onEnded?: () => void,
 *   ended?: EndedScreen,
 * }} Handlers
 * @typedef {{ hide: string, title?: string }} EndedScreen what a page swaps for its #ended section when
 *   the session is deleted: the selector of the part to hide, and the tab title to show
 */

const MAX_RETRY_MS = 15_000;

/**
 * A session's state, kept current through its event stream. States are applied by version, so a
 * late event or a slow HTTP answer never replaces a newer state. The browser's EventSource
 * reconnects by itself after a dropped connection; when it gives up (the server answered with an
 * error status while restarting), this reconnects with a growing delay.
 */
export class LiveSession {
  /** @param {string} sessionId @param {Handlers} handlers */
  constructor(sessionId, handlers) {
    this.sessionId = sessionId;
    this.handlers = handlers;
    /** @type {PublicState | null} */
    this.state = null;
    /** @type {LinkStatus} */
    this.status = 'connecting';
    /** Server clock minus this device's clock: ETAs are computed on the server's clock. */
    this.offsetMs = 0;
    /** @type {EventSource | null} */
    this.source = null;
    /** @type {number | undefined} */
    this.retryTimer = undefined;
    this.failures = 0;
    /** Date.now() before which the server asked not to be asked again (its Retry-After). */
    this.notBefore = 0;
  }

  start() {
    // The page came with its first state: the queue shows now, not after the stream opens. Applied
    // once the page's module has run, since its handlers may use what `start()` returns.
    const first = document.getElementById('initial-state')?.textContent;
    if (first) {
      const state = /** @type {PublicState} */ (JSON.parse(first));
      if (state.id === this.sessionId) queueMicrotask(() => this.apply(state));
    }
    this.open();
    const wake = () => {
      if (this.status === 'reconnecting' && this.source === null && Date.now() >= this.notBefore) this.retryNow();
    };
    window.addEventListener('online', wake);
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') wake();
    });
    return this;
  }

  /** The server's "now" in ms, for ETAs. */
  serverNow() {
    return Date.now() + this.offsetMs;
  }

  /**
   * Take a state from the stream or from an API answer; older versions are ignored.
   * @param {PublicState} state
   * @returns {boolean} whether it was applied
   */
  apply(state) {
    const previous = this.state;
    if (previous && state.version < previous.version) return false;
    this.state = state;
    this.offsetMs = Date.parse(state.generatedAt) - Date.now();
    this.handlers.onState(state, previous);
    return true;
  }

  /** @param {LinkStatus} status */
  setStatus(status) {
    if (this.status === status || this.status === 'ended') return;
    this.status = status;
    this.handlers.onStatus?.(status);
  }

  eventsPath() {
    return `/api/sessions/${encodeURIComponent(this.sessionId)}/events`;
  }

  open() {
    const source = new EventSource(this.eventsPath());
    this.source = source;
    source.addEventListener('state', (event) => {
      this.failures = 0;
      this.setStatus('live');
      this.apply(JSON.parse(/** @type {MessageEvent<string>} */ (event).data));
    });
    source.addEventListener('deleted', () => this.end());
    // The stream has lived its time on the server: a new one at once, whose first frame is the
    // whole state, so nothing is missed and the page never shows "Reconnecting…".
    source.addEventListener('reconnect', () => {
      source.close();
      if (this.source === source) this.open();
    });
    source.addEventListener('error', () => {
      if (this.status === 'ended') return;
      this.setStatus('reconnecting');
      if (source.readyState === EventSource.CLOSED) {
        this.source = null;
        this.scheduleRetry();
      }
    });
  }

  scheduleRetry() {
    clearTimeout(this.retryTimer);
    const delay = Math.min(MAX_RETRY_MS, 1000 * 2 ** this.failures);
    this.failures += 1;
    this.retryTimer = window.setTimeout(() => this.retryNow(), delay);
  }

  /**
   * Ask once over plain HTTP: a 404 means the session is gone, anything else is worth another try.
   * A stream refused for a cap (429/503) waits as long as the server's Retry-After says, plus a
   * little at random so a crowd does not come back at once, instead of the short backoff.
   */
  async retryNow() {
    clearTimeout(this.retryTimer);
    try {
      const stream = await probe(this.eventsPath());
      if (stream.retryAfter > 0) return this.retryIn(stream.retryAfter);
      // Gone: asking for its state too would only count a second unknown code against this network.
      if (stream.status === 404) return this.end();
      this.apply(await api('GET', `/api/sessions/${encodeURIComponent(this.sessionId)}`));
      this.open();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'session_not_found') this.end();
      else if (err instanceof ApiError && err.retryAfter) this.retryIn(err.retryAfter);
      else this.scheduleRetry();
    }
  }

  /** @param {number} seconds what the server's Retry-After said */
  retryIn(seconds) {
    const delay = seconds * 1000 * (1 + Math.random() / 4);
    this.notBefore = Date.now() + delay;
    this.retryTimer = window.setTimeout(() => this.retryNow(), delay);
  }

  end() {
    clearTimeout(this.retryTimer);
    this.source?.close();
    this.source = null;
    this.setStatus('ended');
    if (this.handlers.ended) showEnded(this.handlers.ended);
    this.handlers.onEnded?.();
  }
}

/**
 * Swap the page for its #ended section.
 * @param {EndedScreen} screen
 */
export function showEnded({ hide, title }) {
  const ended = document.getElementById('ended');
  if (ended) ended.hidden = false;
  document.querySelector(hide)?.setAttribute('hidden', '');
  if (title) document.title = title;
}

/**
 * Show the link status in an element (role="status" in the HTML), and on <body data-link> for styling.
 * @param {HTMLElement} el
 * @returns {(status: LinkStatus) => void}
 */
export function showLinkStatus(el) {
  /** @type {Record<LinkStatus, string>} */
  const text = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', ended: 'Ended' };
  return (status) => {
    el.textContent = text[status];
    el.dataset.status = status;
    document.body.dataset.link = status;
  };
}
