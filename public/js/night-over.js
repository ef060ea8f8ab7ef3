// @ts-check
import { byId, h, songText } from './dom.js';
import { TonightSongs } from './history.js';

/** @typedef {import('./types.js').PublicState} PublicState */

/**
 * Requests closed: the guest page says thank you and lists the songs sung tonight, oldest first
 * (the newest from the state, the earlier ones on demand), so the night ends on what the room
 * sang, not on an empty form.
 * @param {PublicState} state
 * @param {() => string | null | undefined} key the guest's key of tonight: once the night is over
 *   the setlist is read with it (someone who only has the code sees the thank-you alone)
 */
export function renderNightOver(state, key) {
  const closed = state.status === 'closed';
  byId('night-over').hidden = !closed;
  if (!closed) return;
  const sung = state.sungCount;
  // Someone with only the code gets the count: the names are for the night's singers.
  const listed = !state.historyHidden || Boolean(key());
  byId('setlist-heading').textContent =
    sung === 0 ? 'The songs sung tonight will show here.' : !listed ? `${sung === 1 ? 'One song was' : `${sung} songs were`} sung tonight.` : sung === 1 ? 'Tonight, one song:' : `Tonight, ${sung} songs:`;
  setlist ??= new TonightSongs({
    sessionId: state.id,
    list: byId('setlist'),
    more: byId('setlist-more', HTMLButtonElement),
    error: byId('setlist-error'),
    keep: (r) => r.outcome === 'sung',
    newestFirst: false,
    key,
    item: (r) => h('li', { class: 'item' }, h('div', { class: 'what' }, h('p', {}, h('span', { class: 'singer' }, r.singer.name)), h('p', { class: 'song' }, songText(r)))),
  });
  setlist.update(state);
}

/** @type {TonightSongs | undefined} */
let setlist;
