// @ts-check
import { byId, h, songText } from './dom.js';

/** @typedef {import('./types.js').PublicState} PublicState */

/**
 * Requests closed: the guest page says thank you and lists the songs sung tonight (the public
 * state's history, oldest first), so the night ends on what the room sang, not on an empty form.
 * @param {PublicState} state
 */
export function renderNightOver(state) {
  const closed = state.status === 'closed';
  byId('night-over').hidden = !closed;
  if (!closed) return;
  const sung = state.history.filter((r) => r.outcome === 'sung');
  byId('setlist-heading').textContent = sung.length === 0 ? 'The songs sung tonight will show here.' : sung.length === 1 ? 'Tonight, one song:' : `Tonight, ${sung.length} songs:`;
  byId('setlist').replaceChildren(
    ...sung.map((r) => h('li', { class: 'item' }, h('div', { class: 'what' }, h('p', {}, h('span', { class: 'singer' }, r.singer.name)), h('p', { class: 'song' }, songText(r))))),
  );
}
