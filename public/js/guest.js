// @ts-check
import { api, ApiError, dropGone, LiveSession, messageFor, noteCause, showLinkStatus } from './api.js';
import { aboutMinutes, byId, forgetGuest, guestEntry, h, keepFocus, ordinal, saveGuest, sessionIdFromPath, shortMinutes, songText } from './dom.js';

/**
 * @typedef {import('./types.js').PublicState} PublicState
 * @typedef {import('./types.js').Song} Song
 * @typedef {Omit<import('./dom.js').GuestEntry, 'savedAt'>} Guest
 */

const sessionId = sessionIdFromPath();
const base = `/api/sessions/${sessionId}`;
/** @type {Guest | null} */
let me = guestEntry(sessionId);
/**
 * The saved key belongs to an earlier night (its night number differs, or the server said
 * `new_night`): `me` still gives the name to join tonight with, but none of its places are shown.
 */
let stale = false;
/** What failed because the key was last night's: sent again once the guest has joined tonight. */
let retry = /** @type {(() => Promise<void>) | null} */ (null);
/** The guest asked to type a song that is not in the songbook. */
let askingAnyway = false;
/** After a song is added, bring the guest's place into view once it shows. */
let scrollToPlace = false;
/** The song the "Added …" confirmation is about, and whether a state has shown it queued yet. */
let addedId = /** @type {string | null} */ (null);
let addedSeen = false;
/** Whether this guest was next up at the last render; null before the first state. */
let wasNext = /** @type {boolean | null} */ (null);

const form = byId('request-form', HTMLFormElement);
const inputs = {
  name: byId('name', HTMLInputElement),
  title: byId('title', HTMLInputElement),
  artist: byId('artist', HTMLInputElement),
  link: byId('song-link', HTMLInputElement),
};
const submit = byId('request-submit', HTMLButtonElement);
const card = byId('request-card', HTMLDetailsElement);
/** @type {number | undefined} */
let doneTimer;
const queueList = byId('queue', HTMLOListElement);
let sending = false;
byId('code').textContent = sessionId;
/**
 * What the first paint does not wait for (the song search, hold, reminders, the night's setlist):
 * imported once the queue is on screen. On slow 3G each module the page waits for costs a round
 * trip when the browser's six connections are busy, so these are not in the page's preloads.
 * @type {{ search: import('./song-search.js').SongSearch, pushOptIn: import('./push.js').PushOptIn,
 *   renderHold: typeof import('./hold.js').renderHold, renderNightOver: typeof import('./night-over.js').renderNightOver } | null}
 */
let later = null;
const showStatus = showLinkStatus(byId('link'));

const live = new LiveSession(sessionId, {
  onState: render,
  onStatus: (status) => {
    showStatus(status);
    if (status === 'live') clearGone(null);
  },
  ended: { hide: 'main', title: 'Ended · Karaoke' },
}).start();

// history.js is night-over.js's own import, asked for beside it rather than once night-over.js has
// arrived and been read: one round trip fewer on a slow link.
void Promise.all([import('./song-search.js'), import('./push.js'), import('./hold.js'), import('./night-over.js'), import('./history.js')]).then(
  ([{ SongSearch }, { PushOptIn }, { renderHold }, { renderNightOver }]) => {
    const input = byId('song-q', HTMLInputElement);
    const search = new SongSearch({
      sessionId,
      input,
      list: byId('song-results'),
      status: byId('song-status'),
      onPick: pickSong,
      onOutcome: ({ query }) => {
        // Once the guest has looked, offer the way out: the list may simply not have their song.
        byId('ask-anyway').hidden = query === '' || askingAnyway || live.state?.requests !== 'any';
      },
    });
    later = { search, pushOptIn: new PushOptIn(byId('push'), sessionId), renderHold, renderNightOver };
    // Typed before the search had arrived: search for it now.
    if (input.value.trim() !== '') void search.search();
    if (live.state) render(live.state, live.state);
  },
);

/** This guest on tonight's night, or null when they have not joined it (yet). */
function tonight() {
  return stale ? null : me;
}

// Estimates drift as songs play; refresh them between pushes.
setInterval(() => live.state && live.status !== 'ended' && render(live.state, live.state), 30_000);

/** @param {PublicState} state @param {PublicState | null} [previous] */
function render(state, previous) {
  byId('session-name').textContent = state.name;
  if (me && !stale && state.night !== undefined) {
    // A key saved before nights existed has no night: it is last night's if the night turned while this page was open.
    const keyNight = me.night ?? (previous && previous.night !== state.night ? previous.night : undefined);
    if (keyNight !== undefined && keyNight !== state.night) {
      stale = true;
      // "Added … You're next!" was about last night's queue, and tonight this guest has no song yet.
      clearTimeout(doneTimer);
      say(byId('request-done'), '');
      hideUndo();
      card.open = true;
    }
  }
  const mine = tonight();
  // A guest coming back with songs queued sees where they stand; the form is one tap away.
  if (!previous && mine && state.queue.some((r) => r.singer.id === mine.singerId)) card.open = false;
  renderRejoin();
  later?.pushOptIn.update(mine);
  renderNow(state);
  const next = renderYou(state);
  renderForm(state);
  renderQueue(state);
  later?.renderHold(state, mine, base, (s) => live.apply(s));
  later?.renderNightOver(state, () => tonight()?.key);
  const singing = mine !== null && state.nowSinging?.singer.id === mine.singerId;
  document.title = next ? `🎤 You're next! · ${state.name}` : singing ? `🎤 You're singing · ${state.name}` : `${state.name} · Karaoke`;
  // Only a change to "next" buzzes: not a reload while already next, and never before a tap (browsers refuse).
  if (next && wasNext === false && navigator.userActivation?.hasBeenActive && 'vibrate' in navigator) {
    navigator.vibrate([300, 150, 300]);
  }
  wasNext = next;
  clearGone(state);
  if (scrollToPlace && !byId('you').hidden) {
    scrollToPlace = false;
    revealPlace();
  }
}

/**
 * After a song is added: the confirmation and the guest's place, which sit together at the top,
 * scrolled into view with as little movement as will show both (on a 320 px phone the form that
 * sent the song is a screen or more further down).
 */
function revealPlace() {
  const parts = [byId('you'), byId('request-done')].filter((el) => !el.hidden).map((el) => el.getBoundingClientRect());
  if (parts.length === 0) return;
  const top = Math.min(...parts.map((r) => r.top));
  const bottom = Math.max(...parts.map((r) => r.bottom));
  const margin = 8;
  if (top < margin) window.scrollBy(0, top - margin);
  else if (bottom > window.innerHeight - margin) window.scrollBy(0, Math.min(top - margin, bottom - window.innerHeight + margin));
}

function renderRejoin() {
  byId('rejoin').hidden = !(stale && me);
  byId('rejoin-name').textContent = me?.name ?? '';
  const button = byId('rejoin-button', HTMLButtonElement);
  button.textContent = sending ? 'Joining…' : `Join tonight as ${me?.name ?? ''}`;
  button.disabled = sending;
}

/** @param {PublicState} state */
function renderNow(state) {
  const now = state.nowSinging;
  const mine = now !== null && now.singer.id === tonight()?.singerId;
  byId('now').replaceChildren(
    now
      ? h('div', { class: 'now-body' },
          h('p', { class: 'now-singer' }, h('bdi', {}, now.singer.name), mine ? h('span', { class: 'badge' }, 'You') : null),
          h('p', { class: 'now-song' }, h('bdi', {}, songText(now))))
      : h('p', { class: 'muted' }, 'Nobody yet. The stage is free!'),
  );
}

/**
 * The guest's own situation, at the top where a glance finds it.
 * @param {PublicState} state
 * @returns {boolean} whether this guest is next up
 */
function renderYou(state) {
  const box = byId('you');
  const headline = byId('you-headline');
  const detail = byId('you-detail');
  const guest = tonight();
  const mine = guest ? state.queue.filter((r) => r.singer.id === guest.singerId) : [];
  const first = mine[0];
  const singing = guest !== null && state.nowSinging !== null && state.nowSinging.singer.id === guest.singerId;
  const next = !singing && first?.position === 1 && !first.onHold;
  box.hidden = !(singing || first);
  box.dataset.mood = singing ? 'singing' : next ? 'next' : 'waiting';
  if (singing && state.nowSinging) {
    headline.textContent = "You're singing now!";
    detail.replaceChildren('“', h('bdi', {}, state.nowSinging.title), '”. Enjoy it!');
  } else if (first && next) {
    headline.textContent = "You're up next!";
    detail.replaceChildren('Get ready for “', h('bdi', {}, first.title), '”.');
  } else if (first) {
    const wait = first.estimatedStartAt === null ? 'on hold' : aboutMinutes(Date.parse(first.estimatedStartAt) - live.serverNow());
    headline.textContent = `You're ${ordinal(first.position)}, ${wait}`;
    detail.replaceChildren('Your song: “', h('bdi', {}, first.title), '”.', mine.length > 1 ? ` Then ${mine.length - 1} more later.` : '');
  }
  return next;
}

/** @param {PublicState} state */
function renderForm(state) {
  const guest = tonight();
  // A guest from an earlier night joins again under the name they had: no need to type it.
  byId('name-field').hidden = me !== null;
  inputs.name.required = me === null;
  byId('me').hidden = guest === null;
  byId('me-name').textContent = guest?.name ?? '';
  const songbook = state.songbook !== null && state.songbook !== undefined;
  if (state.requests !== 'any') askingAnyway = false;
  const freeText = !songbook || askingAnyway;
  byId('song-find').hidden = !songbook;
  byId('free-text').hidden = !freeText;
  inputs.title.required = freeText;
  submit.hidden = !freeText;
  if (!songbook || askingAnyway || state.requests !== 'any') byId('ask-anyway').hidden = true;
  later?.search.setBusy(sending);
  card.hidden = state.status === 'closed';
  // A phone not in tonight's night would be refused at the tap: say so before anything is typed.
  const joinsClosed = guest === null && state.joinsOpen === false;
  const notice = byId('request-notice');
  notice.hidden = state.status === 'open' && !joinsClosed;
  notice.textContent =
    state.status === 'paused'
      ? 'The host has paused requests for a moment. Type your song; you can send it when they reopen.'
      : state.status === 'open'
        ? 'The host has closed joining for tonight. Ask the host to add your song.'
        : 'Requests are closed for tonight.';
  submit.disabled = sending || state.status !== 'open' || joinsClosed;
  submit.textContent = sending ? 'Adding…' : guest ? 'Add my song' : stale ? 'Join tonight and add my song' : 'Join and add my song';
}

/** @param {PublicState} state */
function renderQueue(state) {
  byId('queue-count').textContent = state.queue.length > 0 ? `(${state.queue.length})` : '';
  byId('queue-empty').hidden = state.queue.length > 0;
  byId('queue-empty').textContent = state.status === 'closed' ? 'No more songs tonight.' : "Nobody is waiting. Add a song and you're next!";
  keepFocus(queueList, () =>
    queueList.replaceChildren(
      ...state.queue.map((r) => {
        const mine = r.singer.id === tonight()?.singerId;
        return h('li', { class: mine ? 'item mine' : 'item', 'data-key': r.id },
          h('span', { class: 'pos', 'aria-hidden': 'true' }, r.position),
          h('div', { class: 'what' },
            h('p', {}, h('bdi', { class: 'singer' }, r.singer.name), mine ? h('span', { class: 'badge' }, 'You') : null),
            h('p', { class: 'song' }, h('bdi', {}, songText(r)))),
          h('div', { class: 'side' },
            h('span', { class: 'eta' }, r.estimatedStartAt === null ? 'on hold' : shortMinutes(Date.parse(r.estimatedStartAt) - live.serverNow())),
            mine
              ? h('button', { class: 'button small ghost', type: 'button', 'data-action': 'cancel', 'data-id': r.id, 'aria-label': `Cancel “${r.title}”` }, 'Cancel')
              : null));
      }),
    ),
  );
}

/**
 * What a guest is told when the night has no room for them or their song, or their name is taken:
 * what happened and what they can do, in the guest's words rather than the API's.
 * @param {unknown} err
 */
function sentenceFor(err) {
  if (!(err instanceof ApiError)) return messageFor(err);
  switch (err.code) {
    case 'session_full':
      return 'Sorry, tonight is full: no more singers can join. Ask the host to add your song.';
    case 'joins_closed':
      return 'The host has closed joining for tonight. Ask the host to add your song.';
    case 'queue_full':
      return 'The queue is full right now. Try again once a few songs have been sung.';
    case 'night_full':
      return "Tonight's song list is full. Ask the host: they can start a new night.";
    case 'name_taken':
      return `There's already a ${String(err.details.name ?? 'singer of that name')}: add an initial?`;
    default:
      return messageFor(err);
  }
}

/**
 * @param {HTMLElement} el @param {string} text
 * @param {unknown} [cause] the error behind the text: it goes once that is no longer so (clearGone)
 */
function say(el, text, cause) {
  el.textContent = text;
  el.hidden = text === '';
  noteCause(el, cause);
  // The confirmation says something else now: no longer about the song that was added.
  if (el.id === 'request-done') addedId = null;
}

/**
 * Messages whose cause is gone go with it: "Can't reach the server" once the page is live again
 * (boxes filled by other modules are known by that sentence), "You already have 3 songs" once one
 * has been sung or cancelled, "paused" once requests are open, "Added …" once that song has left
 * the queue.
 * @param {PublicState | null} state null: the link just came back
 */
function clearGone(state) {
  const guest = tonight();
  const mine = state && guest ? state.queue.filter((r) => r.singer.id === guest.singerId).length : 0;
  dropGone('main .error', (cause) =>
    state === null
      ? cause === 'network'
      : (cause === 'queue_limit' && mine < state.maxQueuedPerSinger) || (cause === 'session_paused' && state.status === 'open'),
  );
  const done = byId('request-done');
  if (state && addedId && !done.hidden) {
    if (state.queue.some((r) => r.id === addedId)) addedSeen = true;
    else if (addedSeen) say(done, '');
  }
}

/** Join tonight: under the name of the earlier night's key when there is one, else the typed one. */
async function join() {
  const name = stale && me ? me.name : inputs.name.value.trim();
  const joined = await api('POST', `${base}/singers`, { body: { name } });
  me = { key: joined.guestKey, singerId: joined.singer.id, name: joined.singer.name, sessionName: live.state?.name ?? '', night: live.state?.night };
  stale = false;
  saveGuest(sessionId, me);
}

/** The key worked, so it is tonight's: an entry saved before nights existed learns its night. */
function stampNight() {
  if (me && me.night === undefined && live.state?.night !== undefined) {
    me = { ...me, night: live.state.night };
    saveGuest(sessionId, me);
  }
}

/**
 * Add a song (typed, or picked from the songbook), joining first when this phone has no key for tonight.
 * @param {Record<string, string>} body
 * @param {() => void} onAdded clears what the song was chosen with
 */
async function send(body, onAdded) {
  const errorBox = byId('request-error');
  const done = byId('request-done');
  say(errorBox, '');
  say(done, '');
  sending = true;
  if (live.state) render(live.state, live.state);
  try {
    if (!tonight()) await join();
    const key = /** @type {Guest} */ (me).key;
    const added = await api('POST', `${base}/requests`, { body, key });
    stampNight();
    onAdded();
    card.open = false;
    const title = added.request?.title ?? body.title ?? 'your song';
    say(done, added.position === 1 ? `Added “${title}”. You're next!` : `Added “${title}”. You're ${ordinal(added.position)} in the queue.`);
    addedId = added.request?.id ?? null;
    addedSeen = false;
    revealPlace();
    scrollToPlace = true;
    clearTimeout(doneTimer);
    doneTimer = window.setTimeout(() => say(done, ''), 10_000);
  } catch (err) {
    if (err instanceof ApiError && err.code === 'new_night' && me) {
      // Last night's key: one tap joins tonight, and then this song goes in as asked.
      stale = true;
      retry = () => send(body, onAdded);
      byId('rejoin').scrollIntoView({ block: 'nearest' });
    } else if (err instanceof ApiError && err.code === 'unauthorized' && me) {
      // This phone's key is no longer known here (the night was reset): join again under a name.
      forgetGuest(sessionId);
      me = null;
      stale = false;
      say(errorBox, 'This phone is no longer signed in to this night. Enter your name again.');
      inputs.name.focus();
    } else if (err instanceof ApiError && err.code === 'name_taken') {
      // Someone else sings as that name tonight: this guest picks another, starting from theirs.
      if (me) {
        inputs.name.value = me.name;
        forgetGuest(sessionId);
        me = null;
        stale = false;
      }
      say(errorBox, sentenceFor(err), err);
      inputs.name.setAttribute('aria-invalid', 'true');
      if (live.state) render(live.state, live.state);
      inputs.name.focus();
      inputs.name.setSelectionRange(inputs.name.value.length, inputs.name.value.length);
      errorBox.scrollIntoView({ block: 'nearest' });
    } else {
      say(errorBox, sentenceFor(err), err);
      const field = err instanceof ApiError ? err.field : undefined;
      const input = field === 'songId' ? byId('song-q', HTMLInputElement) : field && field in inputs ? inputs[/** @type {keyof typeof inputs} */ (field)] : undefined;
      input?.setAttribute('aria-invalid', 'true');
      input?.focus();
      // A refusal (the night or the queue is full) must be read where the guest is looking.
      errorBox.scrollIntoView({ block: 'nearest' });
    }
  } finally {
    sending = false;
    if (live.state) render(live.state, live.state);
  }
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  for (const input of Object.values(inputs)) input.removeAttribute('aria-invalid');
  // Enter in the name box while the song is to be found in the list: go find it.
  if (byId('free-text').hidden) {
    if (inputs.name.required && !inputs.name.reportValidity()) return;
    byId('song-q').focus();
    return;
  }
  if (!form.reportValidity()) return;
  /** @type {Record<string, string>} */
  const body = { title: inputs.title.value.trim() };
  if (inputs.artist.value.trim()) body.artist = inputs.artist.value.trim();
  if (inputs.link.value.trim()) body.link = inputs.link.value.trim();
  void send(body, () => {
    inputs.title.value = inputs.artist.value = inputs.link.value = '';
    askingAnyway = false;
  });
});

/** @param {Song} song */
function pickSong(song) {
  if (sending) return;
  byId('request-error').hidden = true;
  if (inputs.name.required && !inputs.name.reportValidity()) {
    inputs.name.focus();
    return;
  }
  void send({ songId: song.id }, () => later?.search.clear());
}

byId('ask-anyway').addEventListener('click', () => {
  askingAnyway = true;
  // What they searched for is the best first guess at the title.
  const query = byId('song-q', HTMLInputElement).value.trim();
  if (!inputs.title.value) inputs.title.value = query;
  if (live.state) renderForm(live.state);
  byId('ask-anyway').hidden = true;
  inputs.title.focus();
});

byId('rejoin-button').addEventListener('click', async () => {
  if (sending || !me) return;
  const errorBox = byId('rejoin-error');
  say(errorBox, '');
  sending = true;
  renderRejoin();
  try {
    await join();
    const again = retry;
    retry = null;
    sending = false;
    if (again) await again();
    else {
      // Nothing is queued for tonight yet: the song form is what comes next, not folded away.
      card.open = true;
      say(byId('request-done'), `You're in for tonight as ${me.name}. Add a song!`);
    }
  } catch (err) {
    if (err instanceof ApiError && err.code === 'name_taken') {
      // Tonight someone else has that name: the song form asks for another one.
      inputs.name.value = me.name;
      forgetGuest(sessionId);
      me = null;
      stale = false;
      card.open = true;
      say(byId('request-error'), sentenceFor(err), err);
      inputs.name.setAttribute('aria-invalid', 'true');
      sending = false;
      if (live.state) render(live.state, live.state);
      inputs.name.focus();
      return;
    }
    say(errorBox, sentenceFor(err), err);
  } finally {
    sending = false;
    if (live.state) render(live.state, live.state);
  }
});

// A message about what was typed goes once the guest starts correcting it.
form.addEventListener('input', (event) => {
  byId('request-error').hidden = true;
  if (event.target instanceof HTMLInputElement) event.target.removeAttribute('aria-invalid');
});

// Opening the form by hand puts the cursor in it; the page opening it at load must not, or a
// phone's keyboard would cover the queue before the guest has read it.
let openedByHand = false;
card.querySelector('summary')?.addEventListener('click', () => {
  openedByHand = !card.open;
});
card.addEventListener('toggle', () => {
  if (card.open && openedByHand) (me ? (byId('free-text').hidden ? byId('song-q') : inputs.title) : inputs.name).focus();
  openedByHand = false;
});

queueList.addEventListener('click', async (event) => {
  const button = event.target instanceof Element ? event.target.closest('button[data-action="cancel"]') : null;
  const guest = tonight();
  if (!(button instanceof HTMLButtonElement) || !guest) return;
  const errorBox = byId('queue-error');
  say(errorBox, '');
  button.disabled = true;
  button.textContent = 'Cancelling…';
  const title = live.state?.queue.find((r) => r.id === button.dataset.id)?.title ?? 'your song';
  // The server's 30 seconds run from the cancel; counted from the tap, the button never outlives them.
  const sentAt = Date.now();
  try {
    await api('DELETE', `${base}/requests/${button.dataset.id}`, { key: guest.key });
    offerUndo(title, sentAt);
  } catch (err) {
    if (err instanceof ApiError && err.code === 'new_night') {
      stale = true;
      if (live.state) render(live.state, live.state);
    }
    say(errorBox, sentenceFor(err), err);
    button.disabled = false;
    button.textContent = 'Cancel';
  }
});

/** A guest's own cancel can be taken back for 30 seconds (POST …/undo with their key). */
const UNDO_MS = 30_000;
/** @type {number | undefined} */
let undoTimer;
let undoing = false;

/** @param {string} title @param {number} sentAt */
function offerUndo(title, sentAt) {
  clearTimeout(undoTimer);
  byId('undo-cancel-text').replaceChildren('Cancelled “', h('bdi', {}, title), '”.');
  const box = byId('undo-cancel');
  box.hidden = false;
  // The row and its button are gone: the keyboard's focus and the eye go to the way back.
  byId('undo-cancel-button').focus({ preventScroll: true });
  box.scrollIntoView({ block: 'nearest' });
  undoTimer = window.setTimeout(hideUndo, Math.max(0, UNDO_MS - (Date.now() - sentAt)));
}

function hideUndo() {
  clearTimeout(undoTimer);
  byId('undo-cancel').hidden = true;
}

byId('undo-cancel-button').addEventListener('click', async () => {
  const guest = tonight();
  if (undoing || !guest) return;
  const errorBox = byId('queue-error');
  const button = byId('undo-cancel-button', HTMLButtonElement);
  say(errorBox, '');
  undoing = true;
  button.textContent = 'Undoing…';
  try {
    live.apply(await api('POST', `${base}/undo`, { key: guest.key }));
    hideUndo();
  } catch (err) {
    // Too late, or the song no longer fits (the limit, or the same song added again meanwhile).
    if (!(err instanceof ApiError && err.code === 'network')) hideUndo();
    say(errorBox, err instanceof ApiError && err.code === 'nothing_to_undo' ? 'Too late to undo: add the song again if you want it back.' : messageFor(err), err);
  } finally {
    undoing = false;
    button.textContent = 'Undo';
  }
});
