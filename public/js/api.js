// @ts-check
/** Calls to the JSON API. Every failure becomes an ApiError with a code and a message a person can act on. */

export class ApiError extends Error {
  /**
   * @param {number} status HTTP status, or 0 when the server could not be reached
   * @param {string} code the API's error code, or "network" / "bad_response"
   * @param {string} message
   * @param {{ retryAfter?: number, field?: string, details?: Record<string, unknown> }} [extra]
   *   `field`: the body field an invalid_input names; `details`: any other properties of the error
   *   body (an unreadable songbook's `badLines`)
   */
  constructor(status, code, message, { retryAfter, field, details = {} } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    /** seconds, for rate limits */
    this.retryAfter = retryAfter;
    this.field = field;
    this.details = details;
  }
}

/**
 * The ApiError for an answer that was not a success, from its status, parsed body and headers.
 * Shared by fetch calls and the songbook upload's XMLHttpRequest.
 * @param {number} status
 * @param {any} data the parsed JSON body, or null
 * @param {string | null} retryAfterHeader
 */
export function errorFromAnswer(status, data, retryAfterHeader) {
  const error = data?.error;
  if (error && typeof error.code === 'string' && typeof error.message === 'string') {
    const { code, message, field, ...details } = error;
    const retry = Number(retryAfterHeader);
    return new ApiError(status, code, message, {
      retryAfter: Number.isFinite(retry) && retry > 0 ? retry : undefined,
      field: typeof field === 'string' ? field : undefined,
      details,
    });
  }
  return new ApiError(status, 'bad_response', `The server answered unexpectedly (HTTP ${status}). Try again in a moment.`);
}

const DEVICE_KEY = 'karaoke:device';
/** @type {string | undefined} */
let device;

/**
 * A random id this browser keeps (localStorage; for the page's life where storage is refused). The
 * server counts joins per device, so one phone hammering the join form uses up its own budget, not
 * the bar's. It names no one: it is made here and sent only with changes.
 */
export function deviceId() {
  if (device) return device;
  try {
    device = localStorage.getItem(DEVICE_KEY) ?? undefined;
  } catch {
    // Private browsing may refuse storage.
  }
  if (!device || !/^[A-Za-z0-9_-]{16,64}$/.test(device)) {
    // getRandomValues works on plain http too (a bar's LAN), unlike crypto.randomUUID.
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    device = btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    try {
      localStorage.setItem(DEVICE_KEY, device);
    } catch {
      // Kept in memory for this page.
    }
  }
  return device;
}

/**
 * How the server would answer `path` now, asked with HEAD: its status, and its Retry-After in
 * seconds (0 when it gave none). For event streams: an EventSource cannot read a refused stream's
 * status, so the page asks this way, and the server answers HEAD as it would the stream.
 * @param {string} path
 * @returns {Promise<{ status: number, retryAfter: number }>}
 */
export async function probe(path) {
  const res = await fetch(path, { method: 'HEAD', cache: 'no-store' });
  const seconds = Number(res.headers.get('Retry-After'));
  return { status: res.status, retryAfter: !res.ok && Number.isFinite(seconds) && seconds > 0 ? seconds : 0 };
}

/**
 * @param {string} method
 * @param {string} path
 * @param {{ body?: unknown, key?: string, signal?: AbortSignal }} [options] `key` is sent as a bearer token
 * @returns {Promise<any>} the parsed JSON body, or null for 204
 */
export async function api(method, path, { body, key, signal } = {}) {
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (key) headers.Authorization = `Bearer ${key}`;
  if (method !== 'GET') headers['X-Device-Id'] = deviceId();
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store', signal });
  } catch (err) {
    // An abort is the caller's own doing: let it through as is, so it is not shown as a network error.
    if (signal?.aborted) throw err;
    throw new ApiError(0, 'network', "Can't reach the server. Check your connection and try again.");
  }
  if (res.status === 204) return null;
  /** @type {any} */
  let data = null;
  try {
    data = await res.json();
  } catch {
    // A proxy's HTML error page, or a cut-off body.
  }
  if (res.ok && data !== null) return data;
  throw errorFromAnswer(res.status, data, res.headers.get('Retry-After'));
}

/**
 * A file the host downloads (tonight's songs as CSV). The key goes in a header, never in a URL,
 * so the link is made here from a Blob.
 * @param {string} path
 * @param {string} key
 * @param {string} fallbackName used when the answer has no Content-Disposition file name
 */
export async function download(path, key, fallbackName) {
  let res;
  try {
    res = await fetch(path, { headers: { Authorization: `Bearer ${key}` }, cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'network', "Can't reach the server. Check your connection and try again.");
  }
  if (!res.ok) {
    /** @type {any} */
    let data = null;
    try {
      data = await res.json();
    } catch {
      // Not JSON: errorFromAnswer words it.
    }
    throw errorFromAnswer(res.status, data, res.headers.get('Retry-After'));
  }
  const name = /filename="?([^";]+)"?/i.exec(res.headers.get('Content-Disposition') ?? '')?.[1] ?? fallbackName;
  const url = URL.createObjectURL(await res.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // The click has handed the Blob to the download; a moment later the URL can go.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * The message to show for an error, worded for the person at the form.
 * @param {unknown} err
 */
export function messageFor(err) {
  if (!(err instanceof ApiError)) return 'Something went wrong. Try again.';
  if (err.code === 'rate_limited' && err.retryAfter) return `Too many tries. Wait ${err.retryAfter} seconds and try again.`;
  return err.message;
}
