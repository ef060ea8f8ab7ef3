// @ts-check
/** Calls to the JSON API. Every failure becomes an ApiError with a code and a message a person can act on. */

export class ApiError extends Error {
  /**
   * @param {number} status HTTP status, or 0 when the server could not be reached
   * @param {string} code the API's error code, or "network" / "bad_response"
   * @param {string} message
   * @param {{ retryAfter?: number, field?: string, details?: Record<string, unknown> }} [extra]
   *   `field`: the body field an invalid_input names; `details`: any other properties of the error
   *   body (an unreadable songbook's `badLines`)
   */
  constructor(status, code, message, { retryAfter, field, details = {} } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    /** seconds, for rate limits */
    this.retryAfter = retryAfter;
    this.field = field;
    this.details = details;
  }
}

/**
 * The ApiError for an answer that was not a success, from its status, parsed body and headers.
 * Shared by fetch calls and the songbook upload's XMLHttpRequest.
 * @param {number} status
 * @param {any} data the parsed JSON body, or null
 * @param {string | null} retryAfterHeader
 */
export function errorFromAnswer(status, data, retryAfterHeader) {
  const error = data?.error;
  if (error && typeof error.code === 'string' && typeof error.message === 'string') {
    const { code, message, field, ...details } = error;
    const retry = Number(retryAfterHeader);
    return new ApiError(status, code, message, {
      retryAfter: Number.isFinite(retry) && retry > 0 ? retry : undefined,
      field: typeof field === 'string' ? field : undefined,
      details,
    });
  }
  return new ApiError(status, 'bad_response', `The server answered unexpectedly (HTTP ${status}). Try again in a moment.`);
}

const DEVICE_KEY = 'karaoke:device';
/** @type {string | undefined} */
let device;

/**
 * A random id this browser keeps (localStorage; for the page's life where storage is refused). The
 * server counts joins per device, so one phone hammering the join form uses up its own budget, not
 * the bar's. It names no one: it is made here and sent only with changes.
 */
export function deviceId() {
  if (device) return device;
  try {
    device = localStorage.getItem(DEVICE_KEY) ?? undefined;
  } catch {
    // Private browsing may refuse storage.
  }
  if (!device || !/^[A-Za-z0-9_-]{16,64}$/.test(device)) {
    // getRandomValues works on plain http too (a bar's LAN), unlike crypto.randomUUID.
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    device = btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    try {
      localStorage.setItem(DEVICE_KEY, device);
    } catch {
      // Kept in memory for this page.
    }
  }
  return device;
}

/**
 * How the server would answer `path` now, asked with HEAD: its status, and its Retry-After in
 * seconds (0 when it gave none). For event streams: an EventSource cannot read a refused stream's
 * status, so the page asks this way, and the server answers HEAD as it would the stream.
 * @param {string} path
 * @returns {Promise<{ status: number, retryAfter: number }>}
 */
export async function probe(path) {
  const res = await fetch(path, { method: 'HEAD', cache: 'no-store' });
  const seconds = Number(res.headers.get('Retry-After'));
  return { status: res.status, retryAfter: !res.ok && Number.isFinite(seconds) && seconds > 0 ? seconds : 0 };
}

/**
 * @param {string} method
 * @param {string} path
 * @param {{ body?: unknown, key?: string, signal?: AbortSignal }} [options] `key` is sent as a bearer token
 * @returns {Promise<any>} the parsed JSON body, or null for 204
 */
export async function api(method, path, { body, key, signal } = {}) {
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (key) headers.Authorization = `Bearer ${key}`;
  if (method !== 'GET') headers['X-Device-Id'] = deviceId();
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store', signal });
  } catch (err) {
    // An abort is the caller's own doing: let it through as is, so it is not shown as a network error.
    if (signal?.aborted) throw err;
    throw new ApiError(0, 'network', "Can't reach the server. Check your connection and try again.");
  }
  if (res.status === 204) return null;
  /** @type {any} */
  let data = null;
  try {
    data = await res.json();
  } catch {
    // A proxy's HTML error page, or a cut-off body.
  }
  if (res.ok && data !== null) return data;
  throw errorFromAnswer(res.status, data, res.headers.get('Retry-After'));
}

/**
 * A file the host downloads (tonight's songs as CSV). The key goes in a header, never in a URL,
 * so the link is made here from a Blob.
 * @param {string} path
 * @param {string} key
 * @param {string} fallbackName used when the answer has no Content-Disposition file name
 */
export async function download(path, key, fallbackName) {
  let res;
  try {
    res = await fetch(path, { headers: { Authorization: `Bearer ${key}` }, cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'network', "Can't reach the server. Check your connection and try again.");
  }
  if (!res.ok) {
    /** @type {any} */
    let data = null;
    try {
      data = await res.json();
    } catch {
      // Not JSON: errorFromAnswer words it.
    }
    throw errorFromAnswer(res.status, data, res.headers.get('Retry-After'));
  }
  const name = /filename="?([^";]+)"?/i.exec(res.headers.get('Content-Disposition') ?? '')?.[1] ?? fallbackName;
  const url = URL.createObjectURL(await res.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // The click has handed the Blob to the download; a moment later the URL can go.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * The message to show for an error, worded for the person at the form.
 * @param {unknown} err
 */
export function messageFor(err) {
  if (!(err instanceof ApiError)) return 'Something went wrong. Try again.';
  if (err.code === 'rate_limited' && err.retryAfter) return `Too many tries. Wait ${err.retryAfter} seconds and try again.`;
  return err.message;
}

// Messages that go when their cause does: each box remembers the error code behind what it says,
// and a page drops the boxes whose cause it sees is no longer so ("Can't reach the server" once
// the page is live again, "You already have 3 songs" once one was sung). Here, beside the errors
// they come from, rather than a module of their own: every module a page waits for costs it.

/** What a box last said and why: the code counts only while the box still says that. */
const causes = /** @type {WeakMap<HTMLElement, { code: string, text: string | null }>} */ (new WeakMap());

/** @param {HTMLElement} box showing the message for `err` now @param {unknown} err */
export function noteCause(box, err) {
  causes.set(box, { code: err instanceof ApiError ? err.code : '', text: box.textContent });
}

/**
 * The error code behind what the box says now, or ''. A box another module filled without noting
 * its cause is still known as a network failure by that failure's sentence (api.js words it).
 * @param {HTMLElement} box
 */
export function causeOf(box) {
  const noted = causes.get(box);
  if (noted && noted.text === box.textContent) return noted.code;
  return box.textContent?.startsWith("Can't reach the server") ? 'network' : '';
}

/**
 * Hide every shown box matching `selector` whose cause `gone` says has passed.
 * @param {string} selector
 * @param {(code: string, box: HTMLElement) => boolean} gone
 */
export function dropGone(selector, gone) {
  for (const box of document.querySelectorAll(selector)) {
    if (box instanceof HTMLElement && !box.hidden && gone(causeOf(box), box)) box.hidden = true;
  }
}

// The live state: the stream of a session's states, here beside the requests it falls back on,
// rather than a module of its own (every module a page waits for costs it a round trip).

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
