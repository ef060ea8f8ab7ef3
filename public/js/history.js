// @ts-check
/**
 * Tonight's songs on a page. The state carries only the newest ones (and the counts), so a long
 * night does not make every update heavy; older songs come from GET …/history when asked for.
 */
import { api, messageFor } from './api.js';

/**
 * @typedef {import('./types.js').PublicState} PublicState
 * @typedef {import('./types.js').PastRequest} PastRequest
 * @typedef {import('./types.js').HistoryPage} HistoryPage
 */

const PAGE = 50;
/** As many as the state carries while the night goes on (RECENT_HISTORY on the server). */
const NEWEST = 20;

/** "23 sung tonight, 4 skipped" @param {PublicState} state */
export function tonightCount(state) {
  const skipped = state.historyCount - state.sungCount;
  if (state.historyCount === 0) return '';
  return `${state.sungCount} sung tonight${skipped > 0 ? `, ${skipped} skipped` : ''}`;
}

export class TonightSongs {
  /**
   * @param {object} options
   * @param {string} options.sessionId
   * @param {HTMLElement} options.list the list the songs are drawn in
   * @param {HTMLButtonElement} options.more "Show earlier songs"
   * @param {HTMLElement} [options.error] where a failed load says so
   * @param {(past: PastRequest) => HTMLElement} options.item one song's row
   * @param {(past: PastRequest) => boolean} [options.keep] which songs to show (default: all)
   * @param {boolean} options.newestFirst
   * @param {number} [options.initial] songs shown before "Show earlier songs" (default: all known)
   * @param {() => string | null | undefined} [options.key] the viewer's key: once the night is over
   *   the state carries no songs (historyHidden) and only a singer or host of the night may read them
   */
  constructor(options) {
    this.options = options;
    /** Songs by their position in the night (0: the first): the states' newest ones and the pages loaded. @type {Map<number, PastRequest>} */
    this.known = new Map();
    this.night = 0;
    this.total = 0;
    this.limit = options.initial ?? Number.POSITIVE_INFINITY;
    this.loading = false;
    this.hidden = false;
    options.more.addEventListener('click', () => void this.showMore());
  }

  /** @param {PublicState} state */
  update(state) {
    if (state.night !== this.night) {
      this.known.clear();
      this.night = state.night;
      this.limit = this.options.initial ?? Number.POSITIVE_INFINITY;
    }
    this.total = state.historyCount;
    // An undo takes the newest song back.
    for (const position of [...this.known.keys()]) if (position >= this.total) this.known.delete(position);
    const start = state.historyCount - state.history.length;
    state.history.forEach((past, i) => this.known.set(start + i, past));
    this.hidden = state.historyHidden === true;
    // The night is over: the newest songs come with the viewer's key, not with the state.
    if (this.hidden && this.total > 0 && this.lowest() === this.total && !this.loading) void this.load(this.total, NEWEST);
    this.draw();
  }

  /** The first position of the songs known without a gap back from the newest. */
  lowest() {
    let position = this.total;
    while (position > 0 && this.known.has(position - 1)) position -= 1;
    return position;
  }

  /** The songs to show, newest first, and whether earlier ones exist. */
  songs() {
    const keep = this.options.keep ?? (() => true);
    const lowest = this.lowest();
    /** @type {PastRequest[]} */
    const songs = [];
    for (let position = this.total - 1; position >= lowest; position -= 1) {
      const past = /** @type {PastRequest} */ (this.known.get(position));
      if (keep(past)) songs.push(past);
    }
    return { songs, lowest };
  }

  draw() {
    const { list, more, item, newestFirst } = this.options;
    const { songs, lowest } = this.songs();
    const shown = songs.slice(0, this.limit);
    list.replaceChildren(...(newestFirst ? shown : shown.reverse()).map(item));
    // Numbered by their place in the night, not in what is shown.
    if (list instanceof HTMLOListElement && !this.options.keep && shown.length > 0) list.start = newestFirst ? this.total : this.total - shown.length + 1;
    const readable = !this.hidden || Boolean(this.options.key?.());
    more.hidden = !readable || !(songs.length > this.limit || lowest > 0);
    more.disabled = this.loading;
  }

  async showMore() {
    const { more, error } = this.options;
    if (this.options.initial !== undefined) this.limit += PAGE;
    const { songs, lowest } = this.songs();
    if (songs.length < this.limit && lowest > 0) await this.load(lowest, PAGE);
    const focused = document.activeElement === more;
    this.draw();
    // The button is gone once the whole night is shown: keep the keyboard in the list.
    if (focused && more.hidden) this.options.list.focus();
  }

  /** The `limit` songs before position `before`, into what is known. @param {number} before @param {number} limit */
  async load(before, limit) {
    const { error } = this.options;
    const key = this.options.key?.() ?? undefined;
    if (this.hidden && !key) return;
    this.loading = true;
    this.draw();
    const night = this.night;
    try {
      /** @type {HistoryPage} */
      const page = await api('GET', `/api/sessions/${encodeURIComponent(this.options.sessionId)}/history?before=${before}&limit=${limit}`, { key });
      if (page.night === night) page.history.forEach((past, i) => this.known.set(page.start + i, past));
      if (error) error.hidden = true;
    } catch (err) {
      if (error) {
        error.textContent = `Couldn't load the ${before === this.total ? '' : 'earlier '}songs. ${messageFor(err)}`;
        error.hidden = false;
      }
    } finally {
      this.loading = false;
    }
    this.draw();
  }
}
