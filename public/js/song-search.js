// @ts-check
/**
 * "Find your song": search the host's songbook on the server as the guest types. A songbook runs to
 * tens of thousands of songs, too much for a phone to download, so every search is one small GET.
 * Typing fast sends one request per pause; a newer search aborts the older one, and an answer that
 * still arrives late is dropped, so the list always matches what is in the box.
 */
import { api, ApiError, messageFor } from './api.js';
import { h } from './dom.js';

/** @typedef {import('./types.js').Song} Song @typedef {import('./types.js').SongSearchAnswer} SongSearchAnswer */

const DEBOUNCE_MS = 150;
const LIMIT = 20;
// One letter matches half the songbook: wait for a second one.
const MIN_CHARS = 2;

export class SongSearch {
  /**
   * @param {{
   *   sessionId: string,
   *   input: HTMLInputElement, list: HTMLElement, status: HTMLElement,
   *   onPick: (song: Song) => void,
   *   onOutcome?: (outcome: { query: string, found: number }) => void,
   * }} options `onOutcome` hears about every finished search (found 0: nothing matched) and every
   *   cleared box (query ''), so the page can offer a way out when the list has nothing
   */
  constructor({ sessionId, input, list, status, onPick, onOutcome }) {
    this.path = `/api/sessions/${encodeURIComponent(sessionId)}/songs`;
    this.input = input;
    this.list = list;
    this.status = status;
    this.onPick = onPick;
    this.onOutcome = onOutcome;
    /** @type {Song[]} */
    this.results = [];
    this.active = -1;
    /** Counts searches started: an answer for an older one is dropped. */
    this.seq = 0;
    /** @type {AbortController | null} */
    this.inFlight = null;
    /** @type {number | undefined} */
    this.timer = undefined;
    /** While a pick is being sent, further taps are ignored. */
    this.busy = false;

    input.addEventListener('input', () => {
      clearTimeout(this.timer);
      this.timer = window.setTimeout(() => void this.search(), DEBOUNCE_MS);
    });
    input.addEventListener('keydown', (event) => this.onKey(event));
    list.addEventListener('click', (event) => {
      const option = event.target instanceof Element ? event.target.closest('[data-index]') : null;
      if (option instanceof HTMLElement) this.pick(Number(option.dataset.index));
    });
    // A tap must not blur the box first (that would close a phone keyboard and shift the list under the finger).
    list.addEventListener('mousedown', (event) => event.preventDefault());
  }

  /** Search for what is in the box now. */
  async search() {
    clearTimeout(this.timer);
    const query = this.input.value.trim();
    this.inFlight?.abort();
    this.inFlight = null;
    const seq = ++this.seq;
    if (query.length < MIN_CHARS) {
      this.show([], 0, '');
      this.onOutcome?.({ query: '', found: 0 });
      return;
    }
    const controller = new AbortController();
    this.inFlight = controller;
    this.input.setAttribute('aria-busy', 'true');
    try {
      /** @type {SongSearchAnswer} */
      const answer = await api('GET', `${this.path}?q=${encodeURIComponent(query)}&limit=${LIMIT}`, { signal: controller.signal });
      if (seq !== this.seq) return;
      this.show(answer.results, answer.total, query);
      this.onOutcome?.({ query, found: answer.results.length });
    } catch (err) {
      if (controller.signal.aborted || seq !== this.seq) return;
      this.show([], 0, '');
      this.status.textContent =
        err instanceof ApiError && err.code === 'songbook_not_found' ? 'The host has just removed the song list.' : messageFor(err);
    } finally {
      if (seq === this.seq) {
        this.inFlight = null;
        this.input.removeAttribute('aria-busy');
      }
    }
  }

  /** @param {Song[]} results @param {number} total @param {string} query */
  show(results, total, query) {
    this.results = results;
    this.active = -1;
    this.input.removeAttribute('aria-busy');
    this.input.removeAttribute('aria-activedescendant');
    this.input.setAttribute('aria-expanded', String(results.length > 0));
    this.list.replaceChildren(
      ...results.map((song, index) =>
        h('li', { id: `song-option-${index}`, class: 'song-option', role: 'option', 'aria-selected': 'false', 'data-index': String(index), 'data-song-id': song.id },
          h('span', { class: 'song-option-title' }, song.title),
          song.artist ? h('span', { class: 'song-option-artist' }, song.artist) : null)),
    );
    this.status.textContent =
      query === '' ? ''
      : results.length === 0 ? `No match for “${query}”.`
      : total > results.length ? `${results.length} of ${total.toLocaleString()} songs. Type more to narrow it down.`
      : `${results.length} song${results.length === 1 ? '' : 's'}. Tap yours.`;
  }

  /** @param {KeyboardEvent} event */
  onKey(event) {
    if (event.isComposing) return;
    const count = this.results.length;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      if (count === 0) return;
      event.preventDefault();
      const step = event.key === 'ArrowDown' ? 1 : -1;
      this.highlight(this.active < 0 && step < 0 ? count - 1 : (this.active + step + count) % count);
    } else if (event.key === 'Enter') {
      // Never submit the surrounding form: Enter picks the highlighted song, or searches at once.
      event.preventDefault();
      if (this.active >= 0) this.pick(this.active);
      else void this.search();
    } else if (event.key === 'Escape' && this.active >= 0) {
      event.preventDefault();
      this.highlight(-1);
    }
  }

  /** @param {number} index */
  highlight(index) {
    this.active = index;
    for (const option of this.list.children) {
      if (!(option instanceof HTMLElement)) continue;
      const on = Number(option.dataset.index) === index;
      option.setAttribute('aria-selected', String(on));
      if (on) option.scrollIntoView({ block: 'nearest' });
    }
    if (index >= 0) this.input.setAttribute('aria-activedescendant', `song-option-${index}`);
    else this.input.removeAttribute('aria-activedescendant');
  }

  /** @param {number} index */
  pick(index) {
    const song = this.results[index];
    if (!song || this.busy) return;
    this.highlight(index);
    this.onPick(song);
  }

  /** Empty the box and the list, after a song was added. */
  clear() {
    this.input.value = '';
    this.seq += 1;
    this.inFlight?.abort();
    this.show([], 0, '');
    this.onOutcome?.({ query: '', found: 0 });
  }

  /** @param {boolean} busy */
  setBusy(busy) {
    this.busy = busy;
    this.list.setAttribute('aria-busy', String(busy));
  }
}
