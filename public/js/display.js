// @ts-check
import { bareUrl, byId, h, sessionIdFromPath, songText } from './dom.js';
import { LiveSession, showLinkStatus } from './api.js';

/** @typedef {import('./types.js').PublicState} PublicState */

const UP_NEXT = 5;
const sessionId = sessionIdFromPath();
/** @type {number | undefined} */
let highlightTimer;
/** The session was deleted: the #ended screen stays, whatever state was last drawn. */
let ended = false;

byId('join-code').textContent = sessionId;
byId('qr', HTMLImageElement).src = `/qr-codes/${sessionId}.png`;

new LiveSession(sessionId, {
  onState: render,
  onStatus: showLinkStatus(byId('link')),
  ended: { hide: 'main', title: 'Ended · Karaoke' },
  onEnded: () => {
    ended = true;
    byId('night-over').hidden = true;
  },
}).start();

void keepScreenOn();

/** @param {PublicState} state @param {PublicState | null} previous */
function render(state, previous) {
  document.title = `${state.name} · Karaoke`;
  byId('session-name').textContent = state.name;
  // Two unbreakable halves: a long address wraps before "/s/CODE", never inside the code.
  const url = bareUrl(state.joinUrl);
  const cut = url.lastIndexOf('/s/');
  byId('join-url').replaceChildren(h('span', {}, url.slice(0, cut)), h('span', {}, url.slice(cut)));
  const pill = byId('status-pill');
  pill.hidden = state.status === 'open';
  pill.dataset.status = state.status;
  pill.textContent = state.status === 'paused' ? 'Requests paused' : 'No new requests';

  const closed = state.status === 'closed';
  const now = state.nowSinging;
  const ready = now ? undefined : state.queue[0];
  // Requests closed and nothing left to sing: the room gets its thank-you, nothing to scan.
  const over = closed && !now && !ready;
  byId('night-over').hidden = !over || ended;
  byId('screen').hidden = over || ended;
  byId('night-over-name').textContent = state.name;
  const sung = state.sungCount;
  byId('night-over-count').textContent = sung === 0 ? '' : sung === 1 ? 'One song tonight' : `${sung} songs tonight`;
  byId('join-open').hidden = closed;
  byId('join-closed').hidden = !closed;

  const panel = byId('now');
  // Between songs the next singer is called up by name, big enough to hear from the bar.
  panel.dataset.mode = now ? 'singing' : ready ? 'ready' : 'free';
  byId('now-label').textContent = now ? 'Now singing' : ready ? 'Up now' : 'Now singing';
  const singer = byId('now-singer');
  singer.textContent = now ? now.singer.name : ready ? `Get ready, ${ready.singer.name}` : 'The stage is free';
  // Names run up to 40 characters; a long one gets a smaller size, and at most two lines.
  singer.classList.toggle('long', (singer.textContent ?? '').length > 14);
  byId('now-song').textContent = now ? songText(now) : ready ? songText(ready) : closed ? 'Thanks for singing tonight' : 'Scan the code to add your song';
  // A new singer gets a moment of attention; not the first paint, not a rename.
  if (previous && (previous.nowSinging?.id ?? null) !== (now?.id ?? null) && now) spotlight();

  const upcoming = state.queue.slice(0, UP_NEXT);
  byId('queue').replaceChildren(
    ...upcoming.map((r) =>
      h('li', { class: 'next-item' },
        h('span', { class: 'next-singer' }, r.singer.name),
        h('span', { class: 'next-song' }, songText(r))),
    ),
  );
  const empty = byId('queue-empty');
  empty.hidden = state.queue.length > 0;
  empty.textContent = closed ? 'No more songs tonight.' : "Nobody is waiting. Scan the code and you're next!";
  const more = state.queue.length - upcoming.length;
  byId('queue-more').hidden = more <= 0;
  byId('queue-more').textContent = `+ ${more} more`;
}

function spotlight() {
  const panel = byId('now');
  panel.classList.remove('changed');
  // Reading layout restarts the animation when singers change in quick succession.
  void panel.offsetWidth;
  panel.classList.add('changed');
  clearTimeout(highlightTimer);
  highlightTimer = window.setTimeout(() => panel.classList.remove('changed'), 6000);
}

/** A TV or tablet left on the stand should not go to sleep mid-song. Unsupported or refused is fine. */
async function keepScreenOn() {
  if (!('wakeLock' in navigator)) return;
  const request = () => navigator.wakeLock.request('screen').catch(() => undefined);
  await request();
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') void request();
  });
}
