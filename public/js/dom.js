// @ts-check
/** Small DOM and formatting helpers. User text only ever reaches the page through textContent. */

/**
 * @typedef {string | number | Node | null | undefined | false} Child
 * @param {string} tag
 * @param {Record<string, string | boolean | undefined>} [attrs] `class`, `data-*`, `aria-*` and plain attributes; `true` sets an empty attribute
 * @param {...(Child | Child[])} children strings become text nodes, never HTML
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    el.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'number' ? String(child) : child);
  }
  return el;
}

/**
 * The element with this id, which the page's HTML is expected to have.
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} [type]
 * @returns {T}
 */
export function byId(id, type) {
  const el = document.getElementById(id);
  if (!el || (type && !(el instanceof type))) throw new Error(`#${id} is missing from the page`);
  return /** @type {T} */ (el);
}

/**
 * Rebuild a container without losing keyboard focus: the focused control is found again by its
 * row key and action after the rows are replaced.
 * @param {HTMLElement} container
 * @param {() => void} rebuild
 */
export function keepFocus(container, rebuild) {
  const active = document.activeElement;
  const row = active instanceof HTMLElement && container.contains(active) ? active.closest('[data-key]') : null;
  const key = row instanceof HTMLElement ? row.dataset.key : undefined;
  const action = active instanceof HTMLElement ? active.dataset.action : undefined;
  rebuild();
  if (!key) return;
  const target = [...container.querySelectorAll('[data-key]')].find((el) => el instanceof HTMLElement && el.dataset.key === key);
  if (!(target instanceof HTMLElement)) return;
  const controls = [...target.querySelectorAll('button:not(:disabled)')];
  const same = controls.find((b) => b instanceof HTMLElement && b.dataset.action === action);
  const next = same ?? controls[0];
  if (next instanceof HTMLElement) next.focus();
}

/** 1 → "1st", 2 → "2nd", 11 → "11th" @param {number} n */
export function ordinal(n) {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  return `${n}${['th', 'st', 'nd', 'rd'][n % 10] ?? 'th'}`;
}

/** "any minute now", "about 1 minute", "about 12 minutes", "about 1 h 20 min" @param {number} ms */
export function aboutMinutes(ms) {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 1) return 'any minute now';
  if (minutes < 90) return `about ${minutes} minute${minutes === 1 ? '' : 's'}`;
  return `about ${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Short form for dense lists: "now", "~4 min", "~1 h 20" @param {number} ms */
export function shortMinutes(ms) {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 1) return 'now';
  if (minutes < 90) return `~${minutes} min`;
  return `~${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')}`;
}

/** The session code from a page path such as /s/ABC123 or /host/ABC123. */
export function sessionIdFromPath() {
  const last = location.pathname.split('/').filter(Boolean).pop() ?? '';
  return decodeURIComponent(last).toUpperCase();
}

/** "Dancing Queen · ABBA", or the title alone. @param {{ title: string, artist: string }} song */
export function songText(song) {
  return song.artist ? `${song.title} · ${song.artist}` : song.title;
}

/** A link a guest typed, only if it is plain http(s): anything else is shown as nothing. @param {string | null} link */
export function safeLink(link) {
  if (!link) return null;
  try {
    const url = new URL(link);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

/** Join URL without the scheme, easier to read off a screen. @param {string} url */
export function bareUrl(url) {
  return url.replace(/^https?:\/\//, '');
}

/**
 * A destructive button that asks for a second tap instead of a dialog: the first tap changes its
 * label for a few seconds, a second tap within that time runs the action.
 * @param {HTMLButtonElement} button
 * @param {string} confirmLabel e.g. "Tap again to end the night"
 * @param {() => unknown} run
 * @param {number} [windowMs]
 */
export function twoTap(button, confirmLabel, run, windowMs = 5000) {
  /** @type {number | undefined} */
  let timer;
  let label = '';
  const reset = () => {
    clearTimeout(timer);
    timer = undefined;
    if (button.dataset.confirming === 'true') button.textContent = label;
    delete button.dataset.confirming;
  };
  button.addEventListener('click', () => {
    if (button.dataset.confirming === 'true') {
      reset();
      void run();
      return;
    }
    label = button.textContent ?? '';
    button.dataset.confirming = 'true';
    button.textContent = confirmLabel;
    timer = window.setTimeout(reset, windowMs);
  });
  button.addEventListener('blur', reset);
}

/** "Fri 12 Dec, 20:04" in this device's language. @param {string} iso */
export function shortDate(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  return date.toLocaleString(undefined, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}

// What this device keeps, here beside the other page helpers rather than a module of its own
// (every module a page waits for costs it a round trip).

/**
 * What this device remembers per session (localStorage): the host key, and the guest's name and key
 * with the night they belong to, so a reload or a second scan of the QR code keeps the same singer
 * and a key from last week's night is recognised as such. Private browsing may refuse storage: the
 * page then still works, it just forgets on reload.
 */

/**
 * @typedef {{ key: string, name: string, savedAt: string }} HostEntry
 * @typedef {{ key: string, singerId: string, name: string, sessionName: string, night?: number, savedAt: string }} GuestEntry
 *   `night` is missing in entries saved before sessions had nights.
 */

const PREFIX = 'karaoke:';
/** @type {Map<string, string>} */
const memory = new Map();

/** @param {string} name */
function read(name) {
  try {
    return localStorage.getItem(PREFIX + name);
  } catch {
    return memory.get(name) ?? null;
  }
}

/** @param {string} name @param {string | null} value */
function write(name, value) {
  try {
    if (value === null) localStorage.removeItem(PREFIX + name);
    else localStorage.setItem(PREFIX + name, value);
  } catch {
    if (value === null) memory.delete(name);
    else memory.set(name, value);
  }
}

/** @param {string} name */
function readJson(name) {
  try {
    const value = JSON.parse(read(name) ?? 'null');
    return value && typeof value === 'object' ? value : null;
  } catch {
    return null;
  }
}

/** @param {string} sessionId @returns {HostEntry | null} */
export function hostEntry(sessionId) {
  const entry = readJson(`host:${sessionId}`);
  return entry && typeof entry.key === 'string' ? entry : null;
}

/** @param {string} sessionId @param {{ key: string, name: string }} entry */
export function saveHost(sessionId, { key, name }) {
  write(`host:${sessionId}`, JSON.stringify({ key, name, savedAt: new Date().toISOString() }));
}

/** @param {string} sessionId @returns {GuestEntry | null} */
export function guestEntry(sessionId) {
  const entry = readJson(`guest:${sessionId}`);
  return entry && typeof entry.key === 'string' && typeof entry.singerId === 'string' ? entry : null;
}

/** @param {string} sessionId @param {Omit<GuestEntry, 'savedAt'>} entry */
export function saveGuest(sessionId, entry) {
  write(`guest:${sessionId}`, JSON.stringify({ ...entry, savedAt: new Date().toISOString() }));
}

/** @param {string} sessionId */
export function forgetGuest(sessionId) {
  write(`guest:${sessionId}`, null);
}

/** A night that no longer exists: nothing of it is kept on this device. @param {string} sessionId */
export function forgetSession(sessionId) {
  for (const name of [`host:${sessionId}`, `guest:${sessionId}`, `flag:saved:${sessionId}`]) write(name, null);
}

/** @param {string} name */
export function flag(name) {
  return read(`flag:${name}`) === '1';
}

/** @param {string} name */
export function setFlag(name) {
  write(`flag:${name}`, '1');
}

/**
 * Sessions this device hosts or sings in, newest first, for the landing page.
 * @returns {{ sessionId: string, role: 'host' | 'guest', name: string, savedAt: string }[]}
 */
export function rememberedSessions() {
  /** @type {string[]} */
  let names = [];
  try {
    for (let i = 0; i < localStorage.length; i += 1) {
      const name = localStorage.key(i);
      if (name?.startsWith(PREFIX)) names.push(name.slice(PREFIX.length));
    }
  } catch {
    names = [...memory.keys()];
  }
  const found = [];
  for (const name of names) {
    const match = /^(host|guest):([2-9A-Z]{6,8})$/.exec(name);
    if (!match) continue;
    const role = /** @type {'host' | 'guest'} */ (match[1]);
    const sessionId = /** @type {string} */ (match[2]);
    const entry = role === 'host' ? hostEntry(sessionId) : guestEntry(sessionId);
    if (!entry) continue;
    const label = String('sessionName' in entry ? entry.sessionName : entry.name);
    found.push({ sessionId, role, name: label || sessionId, savedAt: entry.savedAt ?? '' });
  }
  return found.sort((a, b) => b.savedAt.localeCompare(a.savedAt));
}
