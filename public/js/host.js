// @ts-check
import { api, ApiError, messageFor } from './api.js';
import { bareUrl, byId, sessionIdFromPath } from './dom.js';
import { renderQueue, renderSide, renderStage } from './host-view.js';
import { LiveSession, showLinkStatus } from './live.js';
import { wireNights } from './nights.js';
import { flag, hostEntry, saveHost, setFlag } from './saved.js';
import { renderSongbook, wireSongbook } from './songbook-upload.js';

/** @typedef {import('./types.js').PublicState} PublicState */

const sessionId = sessionIdFromPath();
const base = `/api/sessions/${sessionId}`;
let hostKey = takeKeyFromAddress() ?? hostEntry(sessionId)?.key ?? null;
/** Settings fields the host is editing are not overwritten by incoming states. */
const editing = new Set();
/** An action is on its way: further taps wait until it is answered. */
let busy = false;

/**
 * The key arrives in the fragment (never sent to the server, so never in a log). Keep it on this
 * device and take it out of the address bar, so it is not shown to the room or put in history.
 */
function takeKeyFromAddress() {
  if (!location.hash) return null;
  const key = new URLSearchParams(location.hash.slice(1)).get('key');
  history.replaceState(null, '', location.pathname + location.search);
  if (key) saveHost(sessionId, { key, name: hostEntry(sessionId)?.name ?? '' });
  return key;
}

byId('code').textContent = sessionId;
byId('open-display', HTMLAnchorElement).href = `/display/${sessionId}`;
byId('display-url').textContent = bareUrl(`${location.origin}/display/${sessionId}`);
byId('qr', HTMLImageElement).src = `/qr-codes/${sessionId}.png`;
byId('print-link', HTMLAnchorElement).href = `/print/${sessionId}`;
wireSongbook({ base, hostKey: () => hostKey, act });
const renderNights = wireNights({ base, sessionId, hostKey: () => hostKey, act });

const live = new LiveSession(sessionId, {
  onState: render,
  onStatus: showLinkStatus(byId('link')),
  ended: { hide: '.host-layout', title: 'Ended · Karaoke' },
}).start();
showKeyState();

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
  renderSongbook(state);
  renderNights(state);
  if (!editing.has('rename')) byId('rename', HTMLInputElement).value = state.name;
  if (!editing.has('max-queued')) byId('max-queued', HTMLInputElement).value = String(state.maxQueuedPerSinger);
  if (hostKey && hostEntry(sessionId)?.name !== state.name) saveHost(sessionId, { key: hostKey, name: state.name });
  applyKeyState();
}

function showKeyState() {
  byId('no-key').hidden = hostKey !== null;
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
    el.disabled = hostKey === null || empty || edge;
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
        : messageFor(err);
    box.hidden = false;
    return false;
  } finally {
    busy = false;
    if (live.state) render(live.state);
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

for (const name of ['status', 'rotation']) {
  for (const input of document.querySelectorAll(`input[name="${name}"]`)) {
    input.addEventListener('change', () => {
      if (input instanceof HTMLInputElement && input.checked) {
        void act('settings-error', (key) => api('PATCH', base, { key, body: { [name]: input.value } }));
      }
    });
  }
}

const settings = byId('settings-form', HTMLFormElement);
for (const id of ['rename', 'max-queued']) {
  const input = byId(id, HTMLInputElement);
  input.addEventListener('input', () => editing.add(id));
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
  if (await act('walkin-error', (key) => api('POST', `${base}/requests`, { key, body }))) {
    walkin.reset();
    name.focus();
  }
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
  const raw = byId('key-input', HTMLInputElement).value.trim();
  const key = raw.includes('#') ? new URLSearchParams(raw.slice(raw.indexOf('#') + 1)).get('key') : raw;
  if (!key) return;
  hostKey = key;
  saveHost(sessionId, { key, name: live.state?.name ?? '' });
  showKeyState();
  if (live.state) render(live.state);
});
