// @ts-check
/** The host's songbook panel: upload a song list with a progress bar, see what was read, remove it, choose whether guests may ask for other songs. */
import { ApiError, errorFromAnswer, messageFor, api } from './api.js';
import { byId, h, shortDate, twoTap } from './dom.js';

/**
 * @typedef {import('./types.js').PublicState} PublicState
 * @typedef {import('./types.js').SongbookUpload} SongbookUpload
 * @typedef {import('./types.js').SongbookFormat} SongbookFormat
 * @typedef {import('./types.js').BadLine} BadLine
 */

const MAX_BYTES = 20 * 1024 * 1024;
/** @type {Record<SongbookFormat, string>} */
const FORMAT_NAMES = {
  csv: 'CSV',
  'csv-semicolon': 'semicolon CSV, as KaraFun exports',
  tsv: 'tab-separated',
  'csv-headerless': 'CSV without a header row',
  lines: 'one song per line',
};

/** The server reads the real format from the content; the type only has to be one it takes. @param {string} fileName */
export function contentTypeFor(fileName) {
  const name = fileName.toLowerCase();
  if (name.endsWith('.tsv')) return 'text/tab-separated-values';
  if (name.endsWith('.txt')) return 'text/plain';
  return 'text/csv';
}

/**
 * PUT the raw file. XMLHttpRequest rather than fetch: only it reports upload progress.
 * @param {string} path
 * @param {File} file
 * @param {string} key
 * @param {(fraction: number) => void} onProgress
 * @returns {Promise<SongbookUpload>}
 */
export function uploadSongbook(path, file, key, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', path);
    xhr.setRequestHeader('Authorization', `Bearer ${key}`);
    xhr.setRequestHeader('Content-Type', contentTypeFor(file.name));
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener('load', () => {
      /** @type {any} */
      let data = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        // A proxy's HTML page: errorFromAnswer words it.
      }
      if (xhr.status >= 200 && xhr.status < 300 && data !== null) resolve(data);
      else reject(errorFromAnswer(xhr.status, data, xhr.getResponseHeader('Retry-After')));
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, 'network', "Can't reach the server. Check your connection and try again.")));
    xhr.send(file);
  });
}

/**
 * @param {{
 *   base: string,
 *   hostKey: () => string | null,
 *   act: (errorId: string, action: (key: string) => Promise<unknown>) => Promise<boolean>,
 * }} deps `act` runs one host action and shows its error in the element with that id
 */
export function wireSongbook({ base, hostKey, act }) {
  const form = byId('songbook-form', HTMLFormElement);
  const file = byId('songbook-file', HTMLInputElement);
  const upload = byId('songbook-upload', HTMLButtonElement);
  const progress = byId('songbook-progress', HTMLProgressElement);
  let uploading = false;

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const key = hostKey();
    const chosen = file.files?.[0];
    if (!key || uploading) return;
    clearMessages();
    if (!chosen) return showError('Choose a song list file first.');
    if (chosen.size > MAX_BYTES) return showError(`That file is ${(chosen.size / 1024 / 1024).toFixed(1)} MB; a song list can be at most 20 MB.`);
    uploading = true;
    upload.disabled = true;
    upload.textContent = 'Uploading…';
    progress.value = 0;
    progress.hidden = false;
    try {
      const result = await uploadSongbook(`${base}/songbook`, chosen, key, (fraction) => {
        progress.value = Math.round(fraction * 100);
      });
      showResult(result);
      form.reset();
    } catch (err) {
      showError(
        err instanceof ApiError && err.code === 'payload_too_large' ? 'That file is too large: a song list can be at most 20 MB.' : messageFor(err),
        err instanceof ApiError && Array.isArray(err.details.badLines) ? /** @type {BadLine[]} */ (err.details.badLines) : [],
      );
    } finally {
      uploading = false;
      upload.disabled = false;
      upload.textContent = 'Upload songbook';
      progress.hidden = true;
    }
  });

  twoTap(byId('songbook-remove', HTMLButtonElement), 'Tap again to remove it', async () => {
    clearMessages();
    if (await act('songbook-error', (key) => api('DELETE', `${base}/songbook`, { key }))) {
      say(byId('songbook-done'), 'Songbook removed. Guests type their songs again.');
    }
  });

  for (const input of document.querySelectorAll('input[name="requests"]')) {
    input.addEventListener('change', () => {
      if (input instanceof HTMLInputElement && input.checked) {
        clearMessages();
        void act('songbook-error', (key) => api('PATCH', base, { key, body: { requests: input.value } }));
      }
    });
  }
}

function clearMessages() {
  byId('songbook-done').hidden = true;
  byId('songbook-error').hidden = true;
}

/** @param {HTMLElement} el @param {...(string | HTMLElement | null)} content */
function say(el, ...content) {
  el.replaceChildren(...content.filter((c) => c !== null));
  el.hidden = false;
}

/** @param {SongbookUpload} result */
function showResult(result) {
  const text = `Read ${result.songs.toLocaleString()} songs (format: ${FORMAT_NAMES[result.format] ?? result.format})` +
    (result.skippedCount > 0 ? `; skipped ${result.skippedCount.toLocaleString()}.` : '.');
  const more = result.skippedCount - result.skipped.length;
  say(byId('songbook-done'), h('p', {}, text),
    result.skipped.length > 0
      ? h('details', { class: 'lines', id: 'songbook-skipped' },
          h('summary', {}, result.skipped.length === 1 ? 'The skipped line' : `The first ${result.skipped.length} skipped lines`),
          h('ul', {}, ...result.skipped.map((s) => h('li', {}, h('span', { class: 'line-no' }, `Line ${s.line}`), ` ${s.reason}`))),
          more > 0 ? h('p', { class: 'small' }, `…and ${more.toLocaleString()} more.`) : null)
      : null);
}

/** @param {string} message @param {BadLine[]} [badLines] */
function showError(message, badLines = []) {
  say(byId('songbook-error'), h('p', {}, message),
    badLines.length > 0
      ? h('details', { class: 'lines', id: 'songbook-bad-lines', open: true },
          h('summary', {}, 'Lines it could not read'),
          h('ul', {}, ...badLines.map((b) => h('li', {}, h('span', { class: 'line-no' }, `Line ${b.line}`), ' ', b.text ? h('code', {}, b.text) : h('span', { class: 'muted' }, '(empty line)')))))
      : null);
}

/** @param {PublicState} state */
export function renderSongbook(state) {
  // A server without songbooks sends no such field: the panel stays away.
  const supported = 'songbook' in state;
  byId('songbook-card').hidden = !supported;
  if (!supported) return;
  const book = state.songbook;
  byId('songbook-summary').textContent = book
    ? `${book.songs.toLocaleString()} songs, uploaded ${shortDate(book.updatedAt)}. Guests search it when they add a song.`
    : 'No songbook yet: guests type their songs. Upload your song list so they can search it.';
  const remove = byId('songbook-remove', HTMLButtonElement);
  remove.hidden = !book;
  byId('requests-group').hidden = !book;
  for (const input of document.querySelectorAll('input[name="requests"]')) {
    if (input instanceof HTMLInputElement) input.checked = input.value === state.requests;
  }
}
