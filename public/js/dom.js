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
