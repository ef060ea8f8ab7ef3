// @ts-check
/** Rendering for the host page: functions of the state; only the earlier songs of the night are fetched (history.js). */
import { bareUrl, byId, h, keepFocus, safeLink, shortMinutes, songText } from './dom.js';

/**
 * @typedef {import('./types.js').PublicState} PublicState
 * @typedef {import('./types.js').SongRequest} SongRequest
 */

/** @param {SongRequest} song */
function linkTo(song) {
  const href = safeLink(song.link);
  return href
    ? h('a', { class: 'song-link', href, target: '_blank', rel: 'noopener noreferrer', 'aria-label': `Open the link for “${song.title}”` }, 'link ↗')
    : null;
}

/** Typed by hand while a songbook exists: the host may not have it. @param {SongRequest} song */
function notInSongbook(song) {
  return song.inSongbook === false ? h('span', { class: 'tag' }, 'not in songbook') : null;
}

/** @param {PublicState} state @param {number} nowMs */
export function renderStage(state, nowMs) {
  const now = state.nowSinging;
  const head = state.queue.find((r) => !r.onHold);
  const minutes = now ? Math.max(0, Math.floor((nowMs - Date.parse(now.startedAt)) / 60_000)) : 0;
  byId('now').replaceChildren(
    now
      ? h('div', { class: 'now-body' },
          h('p', { class: 'now-singer' }, now.singer.name),
          h('p', { class: 'now-song' }, songText(now), notInSongbook(now), linkTo(now)),
          h('p', { class: 'muted small' }, minutes < 1 ? 'Started just now' : `Started ${minutes} min ago`))
      : h('p', { class: 'muted' }, head ? 'Nobody is singing. Start the first song when the mic is ready.' : 'Nobody is singing and the queue is empty.'),
  );
  const next = byId('next', HTMLButtonElement);
  const skip = byId('skip', HTMLButtonElement);
  const label = head ? `${now ? 'Next' : 'Start'}: ${head.singer.name}` : now ? 'Finish this song' : 'Next singer';
  next.replaceChildren(label, head ? h('span', { 'aria-hidden': 'true' }, ' ▶') : '');
  next.dataset.empty = String(!now && !head);
  skip.dataset.empty = String(!now);
  skip.setAttribute('aria-label', now ? `Skip ${now.singer.name}'s song` : 'Skip');
  // The host's newest undoable action, while the server still takes it back (30 minutes).
  const undo = byId('undo', HTMLButtonElement);
  const offer = state.undo && nowMs - Date.parse(state.undo.at) < 30 * 60_000 ? state.undo : null;
  undo.hidden = offer === null;
  undo.textContent = offer ? `Undo: ${offer.label}` : '';
}

/** @param {PublicState} state @param {number} nowMs */
export function renderQueue(state, nowMs) {
  byId('queue-count').textContent = state.queue.length > 0 ? `(${state.queue.length})` : '';
  byId('queue-empty').hidden = state.queue.length > 0;
  byId('rotation-note').textContent = state.rotation === 'fair' ? 'Fair turns: new singers go ahead of second songs' : 'First come, first served';
  const list = byId('queue');
  // Edge buttons are disabled here already, so keeping the focus never lands on one.
  keepFocus(list, () =>
    list.replaceChildren(
      ...state.queue.map((r) => {
        const label = `“${r.title}” by ${r.singer.name}`;
        return h('li', { class: 'item', 'data-key': r.id },
          h('span', { class: 'pos', 'aria-hidden': 'true' }, r.position),
          h('div', { class: 'what' },
            h('p', { class: 'singer' }, r.singer.name),
            h('p', { class: 'song' }, songText(r), notInSongbook(r), r.onHold ? h('span', { class: 'tag held' }, 'on hold') : null), linkTo(r)),
          h('span', { class: 'eta' }, r.estimatedStartAt === null ? 'on hold' : shortMinutes(Date.parse(r.estimatedStartAt) - nowMs)),
          h('div', { class: 'actions' },
            h('button', { class: 'button small icon', type: 'button', 'data-action': 'up', 'data-id': r.id, 'data-position': String(r.position - 1), 'data-needs-key': true, 'aria-label': `Move ${label} up`, disabled: r.position === 1 }, '↑'),
            h('button', { class: 'button small icon', type: 'button', 'data-action': 'down', 'data-id': r.id, 'data-position': String(r.position + 1), 'data-needs-key': true, 'aria-label': `Move ${label} down`, disabled: r.position === state.queue.length }, '↓'),
            h('button', { class: 'button small', type: 'button', 'data-action': r.onHold ? 'back' : 'hold', 'data-singer': r.singer.id, 'data-needs-key': true, 'aria-label': r.onHold ? `${r.singer.name} is back` : `Put ${r.singer.name} on hold` }, r.onHold ? 'Back' : 'Hold'),
            h('button', { class: 'button small danger', type: 'button', 'data-action': 'remove', 'data-id': r.id, 'data-needs-key': true, 'aria-label': `Remove ${label}` }, 'Remove')));
      }),
    ),
  );
}

/** @param {PublicState} state */
export function renderSide(state) {
  byId('join-code').textContent = state.id;
  const joinUrl = byId('join-url', HTMLAnchorElement);
  joinUrl.href = state.joinUrl;
  joinUrl.textContent = bareUrl(state.joinUrl);
  const pill = byId('status-pill');
  pill.dataset.status = state.status;
  pill.textContent = { open: 'Requests open', paused: 'Requests paused', closed: 'Requests closed' }[state.status];
  for (const input of document.querySelectorAll('input[name="status"], input[name="rotation"]')) {
    if (input instanceof HTMLInputElement) input.checked = input.value === state.status || input.value === state.rotation;
  }
}

/**
 * The night's songs so far, once history.js has arrived (the queue's first paint does not wait for it).
 * @param {PublicState} state @param {typeof import('./history.js')} history
 * @param {() => string | null} hostKey once the night is over, tonight's songs are read with it
 */
export function renderHistory(state, { TonightSongs, tonightCount }, hostKey) {
  byId('history-empty').hidden = state.historyCount > 0;
  byId('history-count').textContent = tonightCount(state);
  tonight ??= new TonightSongs({
    sessionId: state.id,
    list: byId('history'),
    more: byId('history-more', HTMLButtonElement),
    error: byId('history-error'),
    newestFirst: true,
    initial: 8,
    key: hostKey,
    item: (past) =>
      h('li', { class: past.outcome === 'skipped' ? 'skipped' : undefined },
        h('span', { class: 'singer' }, past.singer.name), ' · ', songText(past),
        past.outcome === 'skipped' ? h('span', { class: 'muted' }, ' (skipped)') : null),
  });
  tonight.update(state);
}

/**
 * @typedef {{ id: string, name: string, byPhone: boolean, queued: number, sung: number, onStage: boolean, onHold: boolean }} RosterSinger
 * @typedef {{ version: number, joinsOpen: boolean, limits: { singersPerNight: number, queuedSongs: number, songsPerNight: number }, singers: RosterSinger[] }} Roster
 */

/** Tonight's singers (the host's list, GET /singers) and whether new phones may join. @param {Roster} roster */
export function renderSingers(roster) {
  const { singers, limits } = roster;
  byId('singers-count').textContent = `(${singers.length} of ${limits.singersPerNight})`;
  byId('singers-empty').hidden = singers.length > 0;
  for (const input of document.querySelectorAll('input[name="joins"]')) {
    if (input instanceof HTMLInputElement) input.checked = input.value === (roster.joinsOpen ? 'open' : 'closed');
  }
  byId('joins-note').textContent = roster.joinsOpen
    ? singers.length >= limits.singersPerNight
      ? 'Tonight is full: no new phone can join. Remove a singer who left to make room.'
      : 'Anyone with the code can join while requests are open.'
    : 'Joining is closed: singers already in keep singing, and you can still add walk-ins.';
  const list = byId('singers');
  keepFocus(list, () =>
    list.replaceChildren(
      ...singers.map((s) => {
        const songs = [s.onStage ? 'on stage' : '', s.queued > 0 ? `${s.queued} queued` : '', s.sung > 0 ? `${s.sung} sung` : '', s.onHold ? 'on hold' : '']
          .filter(Boolean)
          .join(' · ');
        return h('li', { class: 'item', 'data-key': s.id },
          h('div', { class: 'what' },
            h('p', { class: 'singer' }, s.name),
            h('p', { class: 'muted small' }, `${s.byPhone ? 'by phone' : 'walk-in'}${songs ? ` · ${songs}` : ''}`)),
          h('button', { class: 'button small danger', type: 'button', 'data-action': 'remove-singer', 'data-id': s.id, 'data-name': s.name, 'data-queued': String(s.queued), 'data-needs-key': true, 'aria-label': `Remove ${s.name} and their queued songs` }, 'Remove'));
      }),
    ),
  );
}
/** @type {import('./history.js').TonightSongs | undefined} */
let tonight;
