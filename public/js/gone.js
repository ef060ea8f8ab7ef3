// @ts-check
/**
 * Messages that go when their cause does: each box remembers the error code behind what it says,
 * and a page drops the boxes whose cause it sees is no longer so ("Can't reach the server" once
 * the page is live again, "You already have 3 songs" once one was sung).
 */
import { ApiError } from './api.js';

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
