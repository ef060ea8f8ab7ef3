// @ts-check
import { api, ApiError, messageFor } from './api.js';
import { aboutMinutes, byId, h, keepFocus, ordinal, sessionIdFromPath, shortMinutes, songText } from './dom.js';
import { LiveSession, showLinkStatus } from './live.js';
import { forgetGuest, guestEntry, saveGuest } from './storage.js';

/**
 * @typedef {import('./types.js').PublicState} PublicState
 * @typedef {Omit<import('./storage.js').GuestEntry, 'savedAt'>} Guest
 */

const sessionId = sessionIdFromPath();
/** @type {Guest | null} */
let me = guestEntry(sessionId);
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

const live = new LiveSession(sessionId, {
  onState: render,
  onStatus: showLinkStatus(byId('link')),
  onEnded: () => {
    byId('ended').hidden = false;
    document.querySelector('main')?.setAttribute('hidden', '');
    document.title = 'Ended · Karaoke';
  },
}).start();

// Estimates drift as songs play; refresh them between pushes.
setInterval(() => live.state && render(live.state, live.state), 30_000);

/** @param {PublicState} state @param {PublicState | null} [previous] */
function render(state, previous) {
  byId('session-name').textContent = state.name;
  // A guest coming back with songs queued sees where they stand; the form is one tap away.
  if (!previous && me && state.queue.some((r) => r.singer.id === me?.singerId)) card.open = false;
  renderNow(state);
  const next = renderYou(state);
  renderForm(state);
  renderQueue(state);
  const singing = me !== null && state.nowSinging?.singer.id === me.singerId;
  document.title = next ? `🎤 You're next! · ${state.name}` : singing ? `🎤 You're singing · ${state.name}` : `${state.name} · Karaoke`;
  // Only a change to "next" buzzes: not a reload while already next, and never before a tap (browsers refuse).
  if (next && wasNext === false && navigator.userActivation?.hasBeenActive && 'vibrate' in navigator) {
    navigator.vibrate([300, 150, 300]);
  }
  wasNext = next;
}

/** @param {PublicState} state */
function renderNow(state) {
  const now = state.nowSinging;
  const mine = now !== null && now.singer.id === me?.singerId;
  byId('now').replaceChildren(
    now
      ? h('div', { class: 'now-body' },
          h('p', { class: 'now-singer' }, now.singer.name, mine ? h('span', { class: 'badge' }, 'You') : null),
          h('p', { class: 'now-song' }, songText(now)))
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
  const mine = me ? state.queue.filter((r) => r.singer.id === me?.singerId) : [];
  const first = mine[0];
  const singing = state.nowSinging !== null && state.nowSinging.singer.id === me?.singerId;
  const next = !singing && first?.position === 1;
  box.hidden = !(singing || first);
  box.dataset.mood = singing ? 'singing' : next ? 'next' : 'waiting';
  if (singing && state.nowSinging) {
    headline.textContent = "You're singing now!";
    detail.textContent = `“${state.nowSinging.title}”. Enjoy it!`;
  } else if (first && next) {
    headline.textContent = "You're up next!";
    detail.textContent = `Get ready for “${first.title}”.`;
  } else if (first) {
    const wait = aboutMinutes(Date.parse(first.estimatedStartAt) - live.serverNow());
    headline.textContent = `You're ${ordinal(first.position)}, ${wait}`;
    detail.textContent = `Your song: “${first.title}”.` + (mine.length > 1 ? ` Then ${mine.length - 1} more later.` : '');
  }
  return next;
}

/** @param {PublicState} state */
function renderForm(state) {
  byId('name-field').hidden = me !== null;
  inputs.name.required = me === null;
  byId('me').hidden = me === null;
  byId('me-name').textContent = me?.name ?? '';
  card.hidden = state.status === 'closed';
  const notice = byId('request-notice');
  notice.hidden = state.status === 'open';
  notice.textContent =
    state.status === 'paused'
      ? 'The host has paused requests for a moment. Type your song; you can send it when they reopen.'
      : 'Requests are closed for tonight.';
  submit.disabled = sending || state.status !== 'open';
  submit.textContent = sending ? 'Adding…' : me ? 'Add my song' : 'Join and add my song';
}

/** @param {PublicState} state */
function renderQueue(state) {
  byId('queue-count').textContent = state.queue.length > 0 ? `(${state.queue.length})` : '';
  byId('queue-empty').hidden = state.queue.length > 0;
  keepFocus(queueList, () =>
    queueList.replaceChildren(
      ...state.queue.map((r) => {
        const mine = r.singer.id === me?.singerId;
        return h('li', { class: mine ? 'item mine' : 'item', 'data-key': r.id },
          h('span', { class: 'pos', 'aria-hidden': 'true' }, r.position),
          h('div', { class: 'what' },
            h('p', {}, h('span', { class: 'singer' }, r.singer.name), mine ? h('span', { class: 'badge' }, 'You') : null),
            h('p', { class: 'song' }, songText(r))),
          h('div', { class: 'side' },
            h('span', { class: 'eta' }, shortMinutes(Date.parse(r.estimatedStartAt) - live.serverNow())),
            mine
              ? h('button', { class: 'button small ghost', type: 'button', 'data-action': 'cancel', 'data-id': r.id, 'aria-label': `Cancel “${r.title}”` }, 'Cancel')
              : null));
      }),
    ),
  );
}

/** @param {HTMLElement} el @param {string} text */
function say(el, text) {
  el.textContent = text;
  el.hidden = text === '';
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const errorBox = byId('request-error');
  say(errorBox, '');
  say(byId('request-done'), '');
  for (const input of Object.values(inputs)) input.removeAttribute('aria-invalid');
  if (!form.reportValidity()) return;
  sending = true;
  if (live.state) renderForm(live.state);
  const title = inputs.title.value.trim();
  try {
    if (!me) {
      const name = inputs.name.value.trim();
      const joined = await api('POST', `/api/sessions/${sessionId}/singers`, { body: { name } });
      me = { key: joined.guestKey, singerId: joined.singer.id, name: joined.singer.name, sessionName: live.state?.name ?? '' };
      saveGuest(sessionId, me);
    }
    const key = me.key;
    /** @type {Record<string, string>} */
    const body = { title };
    if (inputs.artist.value.trim()) body.artist = inputs.artist.value.trim();
    if (inputs.link.value.trim()) body.link = inputs.link.value.trim();
    const added = await api('POST', `/api/sessions/${sessionId}/requests`, { body, key });
    inputs.title.value = inputs.artist.value = inputs.link.value = '';
    card.open = false;
    const done = byId('request-done');
    say(done, added.position === 1 ? `Added “${title}”. You're next!` : `Added “${title}”. You're ${ordinal(added.position)} in the queue.`);
    clearTimeout(doneTimer);
    doneTimer = window.setTimeout(() => say(done, ''), 10_000);
  } catch (err) {
    if (err instanceof ApiError && err.code === 'unauthorized' && me) {
      // This phone's key is no longer known here (the night was reset): join again under a name.
      forgetGuest(sessionId);
      me = null;
      say(errorBox, 'This phone is no longer signed in to this night. Enter your name again.');
      inputs.name.focus();
    } else {
      say(errorBox, messageFor(err));
      const field = err instanceof ApiError ? err.field : undefined;
      const input = field && field in inputs ? inputs[/** @type {keyof typeof inputs} */ (field)] : undefined;
      input?.setAttribute('aria-invalid', 'true');
      input?.focus();
    }
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
  if (card.open && openedByHand) (me ? inputs.title : inputs.name).focus();
  openedByHand = false;
});

queueList.addEventListener('click', async (event) => {
  const button = event.target instanceof Element ? event.target.closest('button[data-action="cancel"]') : null;
  if (!(button instanceof HTMLButtonElement) || !me) return;
  const errorBox = byId('queue-error');
  say(errorBox, '');
  button.disabled = true;
  button.textContent = 'Cancelling…';
  try {
    await api('DELETE', `/api/sessions/${sessionId}/requests/${button.dataset.id}`, { key: me.key });
  } catch (err) {
    say(errorBox, messageFor(err));
    button.disabled = false;
    button.textContent = 'Cancel';
  }
});
