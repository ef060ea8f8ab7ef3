// @ts-check
import { api, ApiError, messageFor } from './api.js';
import { byId, forgetSession, h, rememberedSessions, saveHost } from './dom.js';
import { wireJoinForm } from './join-code.js';

/** @typedef {import('./types.js').CreatedSession} CreatedSession */

wireJoinForm();
showRemembered();

const form = byId('create-form', HTMLFormElement);
const submit = byId('create-submit', HTMLButtonElement);
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const error = byId('create-error');
  error.hidden = true;
  const name = byId('night-name', HTMLInputElement).value.trim();
  submit.disabled = true;
  submit.textContent = 'Starting…';
  try {
    /** @type {CreatedSession} */
    const created = await api('POST', '/api/sessions', { body: { name } });
    saveHost(created.session.id, { key: created.hostKey, name: created.session.name });
    location.assign(created.hostUrl);
  } catch (err) {
    error.textContent = messageFor(err);
    error.hidden = false;
    submit.disabled = false;
    submit.textContent = 'Start the night';
  }
});

/**
 * A way back to nights this device hosts or sings in, for a host who closed the tab. Each is asked
 * for once: a night that answers 404 was deleted (by its host or by housekeeping) and is forgotten.
 */
function showRemembered() {
  const SHOWN = 6;
  const found = rememberedSessions();
  /** @param {typeof found} list */
  const show = (list) => {
    const shown = list.slice(0, SHOWN);
    byId('mine').hidden = shown.length === 0;
    byId('mine-list').replaceChildren(
      ...shown.map((s) =>
        h('li', {},
          h('a', { href: s.role === 'host' ? `/host/${s.sessionId}` : `/s/${s.sessionId}` }, h('bdi', {}, s.name)),
          h('span', { class: 'muted' }, s.role === 'host' ? ' · you host' : ' · you sing', ` · ${s.sessionId}`)),
      ),
    );
  };
  show(found);
  // A few more than shown are checked, so a gone night's place is taken by the next one.
  const checked = found.slice(0, SHOWN * 2);
  const ids = [...new Set(checked.map((s) => s.sessionId))];
  void Promise.all(
    ids.map(async (id) => {
      try {
        await api('GET', `/api/sessions/${id}`);
        return null;
      } catch (err) {
        return err instanceof ApiError && err.code === 'session_not_found' ? id : null;
      }
    }),
  ).then((results) => {
    const gone = new Set(results.filter((id) => id !== null));
    if (gone.size === 0) return;
    for (const id of gone) forgetSession(id);
    show(found.filter((s) => !gone.has(s.sessionId)));
  });
}
