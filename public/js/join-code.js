// @ts-check
import { api, ApiError, messageFor } from './api.js';
import { byId } from './dom.js';

// Codes never use 0, 1, I, L or O: they are too easy to misread on a screen across a room.
const CODE = /^[2-9A-HJKMNP-Z]{6,8}$/;

/** "k7x m3q" → "K7XM3Q"; a pasted guest link works too. @param {string} raw */
export function normalizeCode(raw) {
  const fromLink = /\/s\/([^/?#\s]+)/.exec(raw)?.[1];
  return (fromLink ?? raw).replace(/[\s-]/g, '').toUpperCase();
}

/** Wire the "type a code" form: check the code exists before leaving the page, so a typo is fixed here. */
export function wireJoinForm() {
  const form = byId('join-form', HTMLFormElement);
  const input = byId('join-code', HTMLInputElement);
  const error = byId('join-error');
  /** @param {string} text */
  const fail = (text) => {
    error.textContent = text;
    error.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    input.removeAttribute('aria-invalid');
    const code = normalizeCode(input.value);
    if (code === '') return fail('Type the code shown on the screen.');
    if (!CODE.test(code)) return fail('Codes are 6 letters and digits, without 0, 1, I, L or O. Check the screen again.');
    try {
      await api('GET', `/api/sessions/${code}`);
      location.assign(`/s/${code}`);
    } catch (err) {
      fail(err instanceof ApiError && err.code === 'session_not_found' ? `No night with the code ${code}. Check the screen again.` : messageFor(err));
    }
  });
}
