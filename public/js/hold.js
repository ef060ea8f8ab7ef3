// @ts-check
/** The guest's "Hold my place" / "I'm back" control: self-contained, driven by the guest page's state. */
import { api, messageFor } from './api.js';
import { byId } from './dom.js';

/**
 * @typedef {import('./types.js').PublicState} PublicState
 * @typedef {{ singerId: string, key: string }} Me
 */

let busy = false;
/** @type {{ base: string, me: Me, onState: (state: PublicState) => void } | null} */
let current = null;

byId('hold-button', HTMLButtonElement).addEventListener('click', async () => {
  if (busy || !current) return;
  const { base, me, onState } = current;
  const button = byId('hold-button', HTMLButtonElement);
  const error = byId('hold-error');
  const holding = button.dataset.held !== 'true';
  busy = true;
  error.hidden = true;
  try {
    onState(/** @type {PublicState} */ (await api(holding ? 'POST' : 'DELETE', `${base}/singers/${me.singerId}/hold`, { key: me.key })));
  } catch (err) {
    error.textContent = messageFor(err);
    error.hidden = false;
  } finally {
    busy = false;
  }
});

/**
 * Show the control while the guest has songs queued; held songs keep their places, so "I'm back"
 * puts them where the rotation had them.
 * @param {PublicState} state @param {Me | null} me @param {string} base @param {(state: PublicState) => void} onState
 */
export function renderHold(state, me, base, onState) {
  current = me ? { base, me, onState } : null;
  const mine = me ? state.queue.filter((r) => r.singer.id === me.singerId) : [];
  const held = mine.some((r) => r.onHold);
  byId('hold').hidden = mine.length === 0;
  const button = byId('hold-button', HTMLButtonElement);
  button.dataset.held = String(held);
  button.textContent = held ? "I'm back" : 'Hold my place';
  byId('hold-note').textContent = held ? 'You are on hold: the host passes over your songs, and they keep their place.' : 'Stepping out? Your songs keep their place.';
}
