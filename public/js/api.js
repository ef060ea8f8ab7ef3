// @ts-check
/** Calls to the JSON API. Every failure becomes an ApiError with a code and a message a person can act on. */

export class ApiError extends Error {
  /**
   * @param {number} status HTTP status, or 0 when the server could not be reached
   * @param {string} code the API's error code, or "network" / "bad_response"
   * @param {string} message
   * @param {number | undefined} [retryAfter] seconds, for rate limits
   */
  constructor(status, code, message, retryAfter) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }

  /** The field an invalid_input message names ("title: ..."), so the form can point at it. */
  get field() {
    return this.code === 'invalid_input' ? /^(\w+):/.exec(this.message)?.[1] : undefined;
  }
}

/**
 * @param {string} method
 * @param {string} path
 * @param {{ body?: unknown, key?: string }} [options] `key` is sent as a bearer token
 * @returns {Promise<any>} the parsed JSON body, or null for 204
 */
export async function api(method, path, { body, key } = {}) {
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (key) headers.Authorization = `Bearer ${key}`;
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch {
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
  const error = data?.error;
  if (error && typeof error.code === 'string' && typeof error.message === 'string') {
    const retry = Number(res.headers.get('Retry-After'));
    throw new ApiError(res.status, error.code, error.message, Number.isFinite(retry) && retry > 0 ? retry : undefined);
  }
  throw new ApiError(res.status, 'bad_response', `The server answered unexpectedly (HTTP ${res.status}). Try again in a moment.`);
}

/**
 * The message to show for an error, worded for the person at the form.
 * @param {unknown} err
 */
export function messageFor(err) {
  if (!(err instanceof ApiError)) return 'Something went wrong. Try again.';
  switch (err.code) {
    case 'rate_limited':
      return err.retryAfter ? `Too many tries. Wait ${err.retryAfter} seconds and try again.` : err.message;
    case 'invalid_input': {
      // "title: title must be at most 120 characters" reads better without the prefix.
      const text = err.message.replace(/^\w+:\s*/, '');
      return text.charAt(0).toUpperCase() + text.slice(1) + '.';
    }
    default:
      return err.message;
  }
}
