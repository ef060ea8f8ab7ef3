// @ts-check
/** The printable QR code: one poster, or a sheet of table cards to cut out. Public data only, no key. */
import { api, ApiError, messageFor } from './api.js';
import { bareUrl, byId, h, sessionIdFromPath } from './dom.js';

/** @typedef {import('./types.js').PublicState} PublicState */

const CARDS_PER_SHEET = 8;
// Served at /print/<id>; ?id= is for opening the file as /print.html.
const sessionId = new URLSearchParams(location.search).get('id')?.toUpperCase() ?? sessionIdFromPath();
const sheet = byId('sheet');
const printButton = byId('print-button', HTMLButtonElement);

byId('code').textContent = sessionId;

for (const input of document.querySelectorAll('input[name="layout"]')) {
  input.addEventListener('change', () => {
    if (input instanceof HTMLInputElement && input.checked) sheet.dataset.layout = input.value;
  });
}
printButton.addEventListener('click', () => window.print());

void load();

async function load() {
  try {
    /** @type {PublicState} */
    const state = await api('GET', `/api/sessions/${encodeURIComponent(sessionId)}`);
    fill(state);
    printButton.disabled = false;
  } catch (err) {
    const box = byId('print-error');
    box.textContent = err instanceof ApiError && err.code === 'session_not_found' ? `No night with the code ${sessionId}.` : messageFor(err);
    box.hidden = false;
  }
}

/** @param {PublicState} state */
function fill(state) {
  document.title = `Print · ${state.name}`;
  byId('cards').replaceChildren(...Array.from({ length: CARDS_PER_SHEET }, () => card()));
  // The QR image is served by this server; its path keeps it under img-src 'self' even when the
  // public address (in qrUrl) is not the one this page was opened on.
  const qr = new URL(state.qrUrl, location.href).pathname;
  const url = bareUrl(state.joinUrl);
  const cut = url.lastIndexOf('/s/');
  for (const el of sheet.querySelectorAll('[data-fill]')) {
    if (!(el instanceof HTMLElement)) continue;
    switch (el.dataset.fill) {
      case 'name':
        el.textContent = state.name;
        // Names run up to 40 characters: a long one gets a smaller size rather than three lines.
        el.classList.toggle('long', state.name.length > 18);
        break;
      case 'qr':
        if (el instanceof HTMLImageElement) el.src = qr;
        break;
      case 'url':
        // Two unbreakable halves: a long address wraps before "/s/CODE", never inside the code.
        el.replaceChildren(...(cut > 0 ? [h('span', {}, url.slice(0, cut)), h('span', {}, url.slice(cut))] : [url]));
        break;
      case 'code':
        el.textContent = state.id;
        break;
    }
  }
}

function card() {
  return h('article', { class: 'table-card' },
    h('img', { class: 'card-qr', 'data-fill': 'qr', alt: 'QR code that opens the song request page' }),
    h('div', { class: 'card-text' },
      h('p', { class: 'card-call' }, 'Scan to sing'),
      h('p', { class: 'card-name', 'data-fill': 'name' }),
      h('ol', { class: 'steps' },
        h('li', {}, 'Point your camera at the code'),
        h('li', {}, 'Type your name, pick your song'),
        h('li', {}, 'Your phone tells you when you’re up')),
      h('p', { class: 'card-url', 'data-fill': 'url' }),
      h('p', { class: 'card-code' }, 'code ', h('span', { class: 'code', 'data-fill': 'code' }))));
}
