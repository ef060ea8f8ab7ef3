// @ts-check
/**
 * The host's status and rotation switches. A change made while another is saving waits and then
 * goes, so a quick second change is not dropped (nor shown undone by the state of the first).
 * Arrow keys step through every radio of a group: the server hears where the host stopped, not
 * each state on the way (which would pause, then close requests on every guest's phone).
 */
import { api, messageFor, noteCause } from './api.js';
import { byId } from './dom.js';

/** After the last arrow key, how long the switch waits for another before saving. */
const SETTLE_MS = 700;
const NAMES = /** @type {const} */ (['status', 'rotation']);

/**
 * @param {{
 *   base: string,
 *   hostKey: () => string | null,
 *   live: import('./api.js').LiveSession,
 *   rerender: () => void,
 * }} deps
 * @returns {() => void} puts the switches back as the host left them, after a state was rendered
 */
export function wireSwitches({ base, hostKey, live, rerender }) {
  /** @type {Record<string, string>} chosen, not sent yet */
  let pending = {};
  /** @type {Record<string, string>} on its way */
  let saving = {};
  /** @type {number | undefined} */
  let settleTimer;
  let arrowing = false;

  /** @param {string} name */
  const now = (name) => (name === 'status' ? live.state?.status : live.state?.rotation);

  async function save() {
    clearTimeout(settleTimer);
    settleTimer = undefined;
    const busy = Object.keys(saving).length > 0;
    // Arrowed away and back: what the night already has is not sent again.
    if (!busy) for (const [name, value] of Object.entries(pending)) if (now(name) === value) delete pending[name];
    const key = hostKey();
    if (busy || !key || Object.keys(pending).length === 0) return;
    const body = pending;
    pending = {};
    saving = body;
    const box = byId('settings-error');
    box.hidden = true;
    try {
      live.apply(await api('PATCH', base, { key, body }));
    } catch (err) {
      box.textContent = messageFor(err);
      noteCause(box, err);
      box.hidden = false;
    } finally {
      saving = {};
      if (settleTimer === undefined) void save();
      rerender();
    }
  }

  for (const name of NAMES) {
    const group = byId(`${name}-group`);
    group.addEventListener('keydown', (event) => {
      if (event.key.startsWith('Arrow')) arrowing = true;
      else if (event.key === 'Enter') void save();
    });
    group.addEventListener('pointerdown', () => {
      arrowing = false;
    });
    // Leaving the group by keyboard: it stopped here.
    group.addEventListener('focusout', (event) => {
      if (!(event.relatedTarget instanceof Node && group.contains(event.relatedTarget))) void save();
    });
    for (const input of group.querySelectorAll(`input[name="${name}"]`)) {
      input.addEventListener('change', () => {
        if (!(input instanceof HTMLInputElement && input.checked)) return;
        pending[name] = input.value;
        if (arrowing) {
          arrowing = false;
          clearTimeout(settleTimer);
          settleTimer = window.setTimeout(() => void save(), SETTLE_MS);
        } else void save();
      });
    }
  }

  return function showChosen() {
    for (const [name, value] of Object.entries({ ...saving, ...pending })) {
      for (const input of document.querySelectorAll(`input[name="${name}"]`)) {
        if (input instanceof HTMLInputElement) input.checked = input.value === value;
      }
    }
  };
}
