// @ts-check
import { api, messageFor } from './api.js';
import { byId, h } from './dom.js';
import { wireJoinForm } from './join-code.js';
import { rememberedSessions, saveHost } from './saved.js';

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

/** A way back to nights this device hosts or sings in, for a host who closed the tab. */
function showRemembered() {
  const found = rememberedSessions().slice(0, 6);
  byId('mine').hidden = found.length === 0;
  byId('mine-list').replaceChildren(
    ...found.map((s) =>
      h('li', {},
        h('a', { href: s.role === 'host' ? `/host/${s.sessionId}` : `/s/${s.sessionId}` }, s.name),
        h('span', { class: 'muted' }, s.role === 'host' ? ' · you host' : ' · you sing', ` · ${s.sessionId}`)),
    ),
  );
}
