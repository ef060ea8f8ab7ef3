// @ts-check
/** The host's nights panel: start a new night (tonight is archived), and download any night's songs as CSV. */
import { api, download, messageFor } from './api.js';
import { byId, h, shortDate, twoTap } from './dom.js';

/**
 * @typedef {import('./types.js').PublicState} PublicState
 * @typedef {import('./types.js').PastNight} PastNight
 */

/**
 * @param {{
 *   base: string,
 *   sessionId: string,
 *   hostKey: () => string | null,
 *   act: (errorId: string, action: (key: string) => Promise<unknown>) => Promise<boolean>,
 * }} deps
 */
export function wireNights({ base, sessionId, hostKey, act }) {
  /** The night the list was loaded for: a new night (from any device) reloads it. */
  let loadedFor = /** @type {number | null} */ (null);

  const button = byId('new-night', HTMLButtonElement);
  twoTap(button, 'Tap again to end tonight', async () => {
    const ending = currentNight;
    byId('nights-done').hidden = true;
    if (await act('nights-error', (key) => api('POST', `${base}/nights`, { key }))) {
      const done = byId('nights-done');
      done.textContent = `Night ${ending} is archived; its songs are under Past nights. The queue is empty for tonight.`;
      done.hidden = false;
    }
  });

  byId('nights-card').addEventListener('click', async (event) => {
    const target = event.target instanceof Element ? event.target.closest('button[data-download]') : null;
    const key = hostKey();
    if (!(target instanceof HTMLButtonElement) || !key) return;
    const night = target.dataset.download ?? 'current';
    const error = byId('nights-error');
    error.hidden = true;
    const label = target.textContent;
    target.disabled = true;
    target.textContent = 'Downloading…';
    try {
      const number = night === 'current' ? currentNight : night;
      await download(`${base}/nights/${night}/songs.csv`, key, `karaoke-${sessionId}-night-${number}.csv`);
    } catch (err) {
      error.textContent = messageFor(err);
      error.hidden = false;
    } finally {
      target.disabled = false;
      target.textContent = label;
    }
  });

  let currentNight = 0;

  /** @param {PublicState} state */
  return function renderNights(state) {
    // A server without nights sends no night number: the panel stays away.
    const supported = typeof state.night === 'number';
    byId('nights-card').hidden = !supported;
    if (!supported) return;
    currentNight = state.night;
    byId('night-now').textContent = `Tonight is night ${state.night}, started ${shortDate(state.nightStartedAt)}.`;
    if (hostKey() && loadedFor !== state.night) {
      loadedFor = state.night;
      void loadPast();
    }
  };

  async function loadPast() {
    const key = hostKey();
    if (!key) return;
    const list = byId('nights-list');
    try {
      /** @type {PastNight[]} */
      const nights = await api('GET', `${base}/nights`, { key });
      byId('nights-empty').hidden = nights.length > 0;
      list.replaceChildren(
        ...nights.map((n) =>
          h('li', { class: 'night', 'data-key': String(n.night) },
            h('div', { class: 'what' },
              h('p', { class: 'singer' }, `Night ${n.night}`),
              h('p', { class: 'song' }, shortDate(n.startedAt)),
              h('p', { class: 'muted small' }, `${n.songs} song${n.songs === 1 ? '' : 's'}, ${n.singers} singer${n.singers === 1 ? '' : 's'}`)),
            h('button', { class: 'button small', type: 'button', 'data-download': String(n.night), 'aria-label': `Download the songs of night ${n.night} (CSV)` }, 'Download songs (CSV)'))),
      );
    } catch (err) {
      loadedFor = null;
      const error = byId('nights-error');
      error.textContent = messageFor(err);
      error.hidden = false;
    }
  }
}
