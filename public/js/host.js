// @ts-check
import { api, ApiError, dropGone, LiveSession, messageFor, noteCause, showLinkStatus } from './api.js';
import { bareUrl, byId, flag, hostEntry, saveHost, sessionIdFromPath, setFlag } from './dom.js';
import { renderHistory, renderQueue, renderSide, renderSingers, renderStage } from './host-view.js';

/** @typedef {import('./types.js').PublicState} PublicState */

const sessionId = sessionIdFromPath();
const base = `/api/sessions/${sessionId}`;
let hostKey = hostEntry(sessionId)?.key ?? null;
/** Why the last key given was not taken ('' when it was); a key on its way to be checked. */
let keyProblem = '';
let keyChecking = false;
/** Settings fields the host is editing are not overwritten by incoming states. */
const editing = new Set();
/** An action is on its way: further taps wait until it is answered. */
let busy = false;
/** @typedef {import('./host-view.js').Roster} Roster */
/** Tonight's singers as last fetched, and the state version a fetch is for. */
let roster = /** @type {Roster | null} */ (null);
let rosterWanted = 0;
let rosterLoading = false;

/**
 * The key arrives in the fragment (never sent to the server, so never in a log), at load or pasted
 * into the address bar of this open page. Take it out of the address bar at once, so it is not
 * shown to the room or put in history, and keep it once the server has taken it.
 */
function takeKeyFromAddress() {
  if (!location.hash) return;
  const key = new URLSearchParams(location.hash.slice(1)).get('key');
  history.replaceState(null, '', location.pathname + location.search);
  if (key) void offerKey(key, true);
}

/**
 * Check a key with the server before keeping it (a host-only read that changes nothing), so a
 * wrong one is said at once rather than at the first tap on Next, and never replaces a good one.
 * @param {string} key
 * @param {boolean} [fromAddress] a refused key from the address is put in the box, to be corrected there
 */
async function offerKey(key, fromAddress = false) {
  if (key === hostKey) {
    keyProblem = '';
    showKeyState();
    return;
  }
  keyChecking = true;
  showKeyState();
  try {
    await api('GET', `${base}/nights`, { key });
    hostKey = key;
    keyProblem = '';
    saveHost(sessionId, { key, name: live.state?.name ?? hostEntry(sessionId)?.name ?? '' });
    byId('key-input', HTMLInputElement).value = '';
  } catch (err) {
    keyProblem =
      err instanceof ApiError && (err.code === 'unauthorized' || err.code === 'forbidden')
        ? 'That key does not fit this night. Paste the whole host link you saved when you created it.'
        : messageFor(err);
    if (fromAddress) byId('key-input', HTMLInputElement).value = key;
  } finally {
    keyChecking = false;
    showKeyState();
    if (live.state) render(live.state);
  }
}

byId('code').textContent = sessionId;
byId('open-display', HTMLAnchorElement).href = `/display/${sessionId}`;
byId('display-url').textContent = bareUrl(`${location.origin}/display/${sessionId}`);
byId('qr', HTMLImageElement).src = `/qr-codes/${sessionId}.png`;
byId('print-link', HTMLAnchorElement).href = `/print/${sessionId}`;
/**
 * What the queue's first paint does not wait for (the switches, the songbook, the nights, the
 * songs sung so far): imported once it is on screen. On slow 3G each module the page waits for
 * costs a round trip when the browser's six connections are busy, so these are not preloaded.
 * Their controls stay off until they have arrived (applyKeyState), so no tap is lost meanwhile.
 * @type {{ showSwitches: () => void, renderSongbook: (state: PublicState) => void,
 *   renderNights: (state: PublicState) => void, history: typeof import('./history.js') } | null}
 */
let later = null;

const live = new LiveSession(sessionId, {
  onState: render,
  onStatus: withLinkStatus(showLinkStatus(byId('link'))),
  ended: { hide: '.host-layout', title: 'Ended · Karaoke' },
}).start();
void Promise.all([import('./host-switches.js'), import('./songbook-upload.js'), import('./nights.js'), import('./history.js')]).then(
  ([{ wireSwitches }, { renderSongbook, wireSongbook }, { wireNights }, history]) => {
    wireSongbook({ base, hostKey: () => hostKey, act });
    later = {
      showSwitches: wireSwitches({ base, hostKey: () => hostKey, live, rerender: () => live.state && render(live.state) }),
      renderSongbook,
      renderNights: wireNights({ base, sessionId, hostKey: () => hostKey, act }),
      history,
    };
    if (live.state) render(live.state);
    else applyKeyState();
  },
);
showKeyState();
takeKeyFromAddress();
window.addEventListener('hashchange', takeKeyFromAddress);

setInterval(() => live.state && live.status !== 'ended' && render(live.state), 30_000);

/** @param {PublicState} state */
function render(state) {
  byId('session-name').textContent = state.name;
  document.title = `Host · ${state.name}`;
  // The address the TV can reach (PUBLIC_URL when set), written out for a remote's keyboard.
  byId('display-url').textContent = bareUrl(state.displayUrl);
  const now = live.serverNow();
  renderStage(state, now);
  renderQueue(state, now);
  renderSide(state);
  if (later) {
    renderHistory(state, later.history, () => hostKey);
    later.showSwitches();
    later.renderSongbook(state);
    later.renderNights(state);
  }
  refreshRoster(state.version);
  if (!editing.has('rename')) byId('rename', HTMLInputElement).value = state.name;
  if (!editing.has('max-queued')) byId('max-queued', HTMLInputElement).value = String(state.maxQueuedPerSinger);
  if (hostKey && hostEntry(sessionId)?.name !== state.name) saveHost(sessionId, { key: hostKey, name: state.name });
  applyKeyState();
  clearGone(state);
}

/**
 * Errors whose cause is gone go with it: "Can't reach the server" once the page is live again
 * (boxes filled by other modules are known by that sentence), an empty queue once there is a song.
 * @param {PublicState | null} state null: the link just came back
 */
function clearGone(state) {
  dropGone('.host-layout .error', (cause) =>
    state === null
      ? cause === 'network'
      : (cause === 'queue_empty' && state.queue.some((r) => !r.onHold)) || (cause === 'session_closed' && state.status !== 'closed'),
  );
}

/**
 * @param {(status: import('./types.js').LinkStatus) => void} show
 * @returns {(status: import('./types.js').LinkStatus) => void}
 */
function withLinkStatus(show) {
  return (status) => {
    show(status);
    if (status === 'live') clearGone(null);
  };
}

function showKeyState() {
  const noKey = byId('no-key');
  // While a key from the address is checked, no "can't control" flash; a refused key is said even
  // when this device still has a good one.
  noKey.hidden = (hostKey !== null || keyChecking) && keyProblem === '';
  byId('no-key-heading').textContent = hostKey !== null ? 'That host link did not work' : "This device can't control this night yet";
  const problem = byId('key-error');
  problem.textContent = keyProblem;
  problem.hidden = keyProblem === '';
  byId('key-input', HTMLInputElement).setAttribute('aria-invalid', String(keyProblem !== ''));
  byId('key-submit', HTMLButtonElement).textContent = keyChecking ? 'Checking…' : 'Use it';
  byId('key-dismiss').hidden = hostKey === null;
  const saveLink = byId('save-link');
  saveLink.hidden = hostKey === null || flag(`saved:${sessionId}`);
  if (hostKey) byId('host-link', HTMLInputElement).value = `${location.origin}/host/${sessionId}#key=${hostKey}`;
  applyKeyState();
}

/** Without the key every control is off: a guest who found this page sees the queue, nothing more. */
function applyKeyState() {
  for (const el of document.querySelectorAll('[data-needs-key]')) {
    if (!(el instanceof HTMLButtonElement || el instanceof HTMLInputElement)) continue;
    const empty = el.dataset.empty === 'true';
    const position = Number(el.dataset.position);
    const edge = (el.dataset.action === 'up' || el.dataset.action === 'down') && (position < 1 || position > (live.state?.queue.length ?? 0));
    el.disabled = hostKey === null || empty || edge || (later === null && el.closest('[data-later]') !== null);
  }
}

/**
 * Run one host action: taps while it runs are ignored (a double tap must not skip two singers),
 * the answer's state is applied at once, errors are shown next to the control. Controls are not
 * disabled meanwhile: that would throw the keyboard focus out of them.
 * @param {string} errorId
 * @param {(key: string) => Promise<unknown>} action
 * @returns {Promise<boolean>} whether it succeeded
 */
async function act(errorId, action) {
  if (!hostKey || busy) return false;
  const box = byId(errorId);
  box.hidden = true;
  busy = true;
  try {
    const result = await action(hostKey);
    if (result && typeof result === 'object' && 'version' in result) live.apply(/** @type {PublicState} */ (result));
    return true;
  } catch (err) {
    box.textContent =
      err instanceof ApiError && (err.code === 'unauthorized' || err.code === 'forbidden')
        ? "This device's host key does not fit this night. Open the host link you saved."
        : err instanceof ApiError && err.code === 'session_full'
          ? 'Tonight is full: no more singers fit in this night. Remove a singer who left to make room, or add the song for someone already in.'
          : messageFor(err);
    noteCause(box, err);
    box.hidden = false;
    return false;
  } finally {
    busy = false;
    if (live.state) render(live.state);
  }
}

/**
 * The singers' list is the host's alone (the public state has only their count): fetched again
 * whenever the state's version moves, one fetch at a time, the newest version winning.
 * @param {number} version
 */
async function refreshRoster(version) {
  if (!hostKey || (roster && roster.version >= version)) return;
  rosterWanted = Math.max(rosterWanted, version);
  if (rosterLoading) return;
  rosterLoading = true;
  try {
    while (hostKey && (!roster || roster.version < rosterWanted)) {
      const wanted = rosterWanted;
      const got = /** @type {Roster} */ (await api('GET', `${base}/singers`, { key: hostKey }));
      roster = got;
      renderSingers(got);
      applyKeyState();
      // The list answers with the durable state, which may trail the live one by a moment.
      if (got.version < wanted) break;
    }
  } catch {
    // A wrong key or a hiccup: the list stays as it was; the next state tries again.
  } finally {
    rosterLoading = false;
  }
}

/** @param {'sung' | 'skipped'} outcome */
function advance(outcome) {
  // expectedCurrentId makes a second tap on a stale screen fail instead of skipping the next singer.
  const expectedCurrentId = live.state?.nowSinging?.id ?? null;
  return act('stage-error', (key) => api('POST', `${base}/next`, { key, body: { outcome, expectedCurrentId } }));
}
byId('next').addEventListener('click', () => advance('sung'));
byId('skip').addEventListener('click', () => advance('skipped'));
byId('undo').addEventListener('click', () => act('stage-error', (key) => api('POST', `${base}/undo`, { key })));

byId('queue').addEventListener('click', (event) => {
  const button = event.target instanceof Element ? event.target.closest('button[data-action]') : null;
  if (!(button instanceof HTMLButtonElement)) return;
  const { action, id, position, singer } = button.dataset;
  const path = `${base}/requests/${id}`;
  if (action === 'hold' || action === 'back') {
    void act('queue-error', (key) => api(action === 'hold' ? 'POST' : 'DELETE', `${base}/singers/${singer}/hold`, { key }));
  } else if (action === 'remove') void act('queue-error', (key) => api('DELETE', path, { key }));
  else void act('queue-error', (key) => api('PATCH', path, { key, body: { position: Number(position) } }));
});

for (const input of document.querySelectorAll('input[name="joins"]')) {
  input.addEventListener('change', () => {
    if (input instanceof HTMLInputElement && input.checked) {
      void act('singers-error', (key) => api('PATCH', base, { key, body: { joinsOpen: input.value === 'open' } }));
    }
  });
}

byId('singers').addEventListener('click', (event) => {
  const button = event.target instanceof Element ? event.target.closest('button[data-action="remove-singer"]') : null;
  if (!(button instanceof HTMLButtonElement)) return;
  const { id, name, queued } = button.dataset;
  const songs = Number(queued) === 1 ? ' and their queued song' : Number(queued) > 1 ? ` and their ${queued} queued songs` : '';
  if (!confirm(`Remove ${name}${songs}? Their phone can no longer add songs.`)) return;
  void act('singers-error', (key) => api('DELETE', `${base}/singers/${id}`, { key }));
});

const settings = byId('settings-form', HTMLFormElement);
for (const id of ['rename', 'max-queued']) {
  const input = byId(id, HTMLInputElement);
  input.addEventListener('input', () => {
    editing.add(id);
    // "Saved." was about what was there before.
    byId('settings-done').hidden = true;
  });
}
settings.addEventListener('submit', async (event) => {
  event.preventDefault();
  const done = byId('settings-done');
  done.hidden = true;
  const name = byId('rename', HTMLInputElement).value.trim();
  const max = Number(byId('max-queued', HTMLInputElement).value);
  /** @type {Record<string, unknown>} */
  const body = {};
  if (name !== live.state?.name) body.name = name;
  if (max !== live.state?.maxQueuedPerSinger) body.maxQueuedPerSinger = max;
  if (Object.keys(body).length === 0) {
    done.textContent = 'Nothing changed.';
    done.hidden = false;
    return;
  }
  if (await act('settings-error', (key) => api('PATCH', base, { key, body }))) {
    editing.clear();
    if (live.state) render(live.state);
    done.textContent = 'Saved.';
    done.hidden = false;
  }
});

const walkin = byId('walkin-form', HTMLFormElement);
walkin.addEventListener('submit', async (event) => {
  event.preventDefault();
  const name = byId('walkin-name', HTMLInputElement);
  const title = byId('walkin-title', HTMLInputElement);
  const artist = byId('walkin-artist', HTMLInputElement);
  /** @type {Record<string, string>} */
  const body = { singerName: name.value.trim(), title: title.value.trim() };
  if (artist.value.trim()) body.artist = artist.value.trim();
  byId('walkin-same').hidden = true;
  await addWalkIn(body);
});

/**
 * Send a walk-in's song. Named like a guest who joined by phone, the server asks who it is: the
 * host says "the same" (the song goes on that guest's list) or adds an initial for someone else.
 * @param {Record<string, string>} body
 */
async function addWalkIn(body) {
  /** @type {unknown} */
  let refused = null;
  const ok = await act('walkin-error', async (key) => {
    try {
      return await api('POST', `${base}/requests`, { key, body });
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 'name_taken' && err.details.singer)) throw err;
      refused = err;
      return null;
    }
  });
  if (refused instanceof ApiError) {
    const singer = /** @type {{ id: string, name: string }} */ (refused.details.singer);
    byId('walkin-same-text').textContent = `${singer.name} joined by phone. Is this the same ${singer.name}?`;
    const yes = byId('walkin-same-yes', HTMLButtonElement);
    yes.textContent = `Same person: add to ${singer.name}'s songs`;
    yes.dataset.singer = singer.id;
    byId('walkin-same').hidden = false;
    applyKeyState();
    yes.focus();
    return;
  }
  if (ok) {
    walkin.reset();
    byId('walkin-name', HTMLInputElement).focus();
  }
}

byId('walkin-same-yes').addEventListener('click', async () => {
  const title = byId('walkin-title', HTMLInputElement).value.trim();
  const artist = byId('walkin-artist', HTMLInputElement).value.trim();
  /** @type {Record<string, string>} */
  const body = { singerId: byId('walkin-same-yes').dataset.singer ?? '', title };
  if (artist) body.artist = artist;
  byId('walkin-same').hidden = true;
  await addWalkIn(body);
});

byId('walkin-same-no').addEventListener('click', () => {
  byId('walkin-same').hidden = true;
  const name = byId('walkin-name', HTMLInputElement);
  name.value = `${name.value.trim()} `;
  name.focus();
  name.setSelectionRange(name.value.length, name.value.length);
});

byId('copy-link').addEventListener('click', async () => {
  const input = byId('host-link', HTMLInputElement);
  const button = byId('copy-link');
  try {
    await navigator.clipboard.writeText(input.value);
    button.textContent = 'Copied ✓';
  } catch {
    // Plain http on a local network has no clipboard API: select it for a manual copy.
    input.select();
    button.textContent = 'Selected: copy it';
  }
});

byId('dismiss-link').addEventListener('click', () => {
  setFlag(`saved:${sessionId}`);
  byId('save-link').hidden = true;
  byId('next').focus();
});

byId('key-form', HTMLFormElement).addEventListener('submit', (event) => {
  event.preventDefault();
  if (keyChecking) return;
  const raw = byId('key-input', HTMLInputElement).value.trim();
  const other = /\/host\/([^/?#\s]+)/.exec(raw)?.[1]?.toUpperCase();
  const key = raw.includes('#') ? new URLSearchParams(raw.slice(raw.indexOf('#') + 1)).get('key') : raw;
  if (other && other !== sessionId) keyProblem = `That host link is for the night ${other}, not ${sessionId}.`;
  else if (!key) keyProblem = 'That link has no key in it: it ends in #key= followed by letters and digits.';
  if ((other && other !== sessionId) || !key) {
    showKeyState();
    return;
  }
  void offerKey(key);
});
byId('key-input').addEventListener('input', () => {
  byId('key-error').hidden = true;
  byId('key-input').removeAttribute('aria-invalid');
});
byId('key-dismiss').addEventListener('click', () => {
  keyProblem = '';
  byId('key-input', HTMLInputElement).value = '';
  showKeyState();
});
