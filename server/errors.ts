import type { ErrorRequestHandler } from 'express';
import type { Logger } from 'pino';
import { StoreClosedError, StoreConflictError, StoreUnavailableError } from './store/index.js';

export interface HttpErrorExtras {
  headers?: Record<string, string>;
  /** The body field at fault, for invalid input: pages point at it without reading the message. */
  field?: string | undefined;
  /** More structure for the client, sent inside `error` (say, the first bad lines of a file). */
  details?: Record<string, unknown>;
}

/** The one error type: status and code are chosen where the error is made, never derived from text. */
export class HttpError extends Error {
  readonly headers: Record<string, string>;
  readonly field: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    extras: HttpErrorExtras = {},
  ) {
    super(message);
    this.name = 'HttpError';
    this.headers = extras.headers ?? {};
    this.field = extras.field;
    this.details = extras.details;
  }
}

/** Every error the API answers with, in one place: codes are public API and must stay stable. */
export const Errors = {
  invalidInput: (message: string, field?: string) => new HttpError(400, 'invalid_input', message, { field }),
  unauthorized: () =>
    new HttpError(401, 'unauthorized', 'Missing or wrong key. Send it as "Authorization: Bearer <key>".'),
  hostOnly: () => new HttpError(403, 'forbidden', 'Only the host of this session can do that.'),
  notYours: () => new HttpError(403, 'forbidden', 'You can only cancel your own requests.'),
  sessionNotFound: () => new HttpError(404, 'session_not_found', 'No session with that code. Check the code and try again.'),
  requestNotFound: () => new HttpError(404, 'request_not_found', 'That song is not in the queue (any more).'),
  routeNotFound: () => new HttpError(404, 'not_found', 'Nothing here.'),
  sessionPaused: () => new HttpError(409, 'session_paused', 'The host has paused requests for now. Try again in a bit.'),
  sessionClosed: () => new HttpError(409, 'session_closed', 'This session is closed: it takes no more requests.'),
  queueLimit: (max: number) =>
    new HttpError(409, 'queue_limit', `You already have ${max} song${max === 1 ? '' : 's'} in the queue. Wait until one is sung.`),
  duplicate: () => new HttpError(409, 'duplicate_request', 'You have already requested that song.'),
  sessionFull: (max: number) =>
    new HttpError(409, 'session_full', `Tonight is full: ${max} singers have joined, the most one night takes. Ask the host to add your song.`),
  queueFull: (max: number) =>
    new HttpError(409, 'queue_full', `The queue is full (${max} songs). Try again after a few songs have been sung.`),
  nightFull: (max: number) =>
    new HttpError(409, 'night_full', `Tonight's list is full (${max} songs). The host can end the night and start a new one.`),
  joinsClosed: () => new HttpError(409, 'joins_closed', 'The host has closed joining for tonight. Ask the host to add your song.'),
  nameTaken: (name: string) =>
    new HttpError(409, 'name_taken', `There's already a ${name} tonight: add an initial, like “${name} B.”`, { field: 'name', details: { name } }),
  /** The host names a walk-in like a guest who joined by phone: `singer` is that guest, to add the song for if it is them. */
  walkInNameTaken: (singer: { id: string; name: string }) =>
    new HttpError(409, 'name_taken', `${singer.name} joined by phone. The same person? Add the song to their list. Someone else? Add an initial.`, {
      field: 'singerName',
      details: { name: singer.name, singer },
    }),
  pastEnd: () => new HttpError(409, 'session_ending', 'The session ends before this song could start.'),
  nothingToAdvance: (allOnHold = false) =>
    new HttpError(409, 'queue_empty', allOnHold ? 'Nobody is singing and every queued singer is on hold.' : 'Nobody is singing and the queue is empty.'),
  nothingToUndo: () => new HttpError(409, 'nothing_to_undo', 'There is nothing left to undo.'),
  notYourHold: () => new HttpError(403, 'forbidden', 'You can only put yourself on hold.'),
  staleState: () => new HttpError(409, 'stale_state', 'The queue changed meanwhile; look again and retry.'),
  alreadySinging: () =>
    new HttpError(409, 'already_singing', 'That song is being sung right now; the host can skip it instead.'),
  rateLimited: (retryAfterSeconds: string | undefined) =>
    new HttpError(429, 'rate_limited', 'Too many requests. Wait a moment and try again.',
      retryAfterSeconds ? { headers: { 'Retry-After': retryAfterSeconds } } : {}),
  storageUnavailable: (cause?: unknown) => {
    const err = new HttpError(503, 'storage_unavailable',
      'The change could not be saved because storage is not writable right now. Nothing was changed; try again shortly.');
    if (cause !== undefined) err.cause = cause;
    return err;
  },
  invalidExport: (message: string) => new HttpError(400, 'invalid_export', `Not a valid export: ${message}`),
  adminUnauthorized: () =>
    new HttpError(401, 'unauthorized', 'Missing or wrong admin token. Send it as "Authorization: Bearer <ADMIN_TOKEN>".'),
  notInSongbook: () =>
    new HttpError(409, 'not_in_songbook', "This room takes songs from the host's songbook only. Search for yours in the list."),
  songNotFound: () => new HttpError(404, 'song_not_found', "That song is not in the host's songbook (any more). Search again."),
  songbookNotFound: () => new HttpError(404, 'songbook_not_found', 'The host has not uploaded a songbook for this room.'),
  invalidSongbook: (message: string, badLines: readonly { line: number; text: string }[]) =>
    new HttpError(400, 'invalid_songbook', message, { details: { badLines } }),
  unsupportedMediaType: (message: string) => new HttpError(415, 'unsupported_media_type', message),
  payloadTooLarge: (message = 'The request body is too large.') => new HttpError(413, 'payload_too_large', message),
  nightNotFound: () => new HttpError(404, 'night_not_found', 'No archived night with that number. The list shows the nights that are kept.'),
  newNight: () =>
    new HttpError(401, 'new_night', 'A new night has started since this phone joined. Join again with your name to sing tonight.'),
  singerNotFound: () => new HttpError(404, 'singer_not_found', 'No singer with that id tonight. Join again with your name.'),
  notYourPhone: () => new HttpError(403, 'forbidden', "Only this singer's own phone can turn their notifications on or off."),
  pushEndpointRefused: (why: string) =>
    new HttpError(400, 'push_endpoint_refused', `This push subscription cannot be used: ${why}.`, { field: 'endpoint' }),
  pushUnavailable: () =>
    new HttpError(404, 'push_unavailable', 'Notifications are not set up on this server (it has no VAPID subject). The page keeps you posted while it is open.'),
  tooManyStreams: (per: 'address' | 'session', retryAfterSeconds: string) =>
    new HttpError(429, 'too_many_streams',
      per === 'address' ? 'Too many live screens are open from this network. This one reconnects by itself shortly.' : 'Too many live screens are open for this session. This one reconnects by itself shortly.',
      { headers: { 'Retry-After': retryAfterSeconds } }),
  streamsFull: (retryAfterSeconds: string) =>
    new HttpError(503, 'streams_full', 'The server has as many live screens open as it can hold. This one reconnects by itself shortly.',
      { headers: { 'Retry-After': retryAfterSeconds } }),
  shuttingDown: () => new HttpError(503, 'shutting_down', 'The server is restarting. Try again in a few seconds.'),
  busy: () =>
    new HttpError(503, 'busy', 'This room is changing faster than the change could be saved. Nothing was changed; try again.', { headers: { 'Retry-After': '1' } }),
} as const;

interface BodyParserError {
  type?: string;
  status?: number;
}

function toHttpError(err: unknown): HttpError | undefined {
  if (err instanceof HttpError) return err;
  if (err instanceof StoreUnavailableError) return Errors.storageUnavailable(err);
  if (err instanceof StoreClosedError) return Errors.shuttingDown();
  if (err instanceof StoreConflictError) return Errors.busy();
  const type = (err as BodyParserError | null)?.type;
  // body-parser marks its own errors with a type; map them to stable codes.
  switch (type) {
    case 'entity.too.large':
      return Errors.payloadTooLarge();
    case 'entity.parse.failed':
      return new HttpError(400, 'invalid_json', 'The request body is not valid JSON.');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new HttpError(415, 'unsupported_encoding', 'The request body encoding is not supported.');
    case 'request.aborted':
      return new HttpError(400, 'request_aborted', 'The request was aborted.');
    default: {
      // Other client errors from the parsers and the router (a corrupt gzip body, a malformed
      // %-escape in the path) carry status 400: the request is at fault, not the server.
      return (err as BodyParserError | null)?.status === 400
        ? new HttpError(400, 'invalid_input', 'The request could not be read: check its address, encoding and body.')
        : undefined;
    }
  }
}

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    const known = toHttpError(err);
    const error = known ?? new HttpError(500, 'internal_error', 'Something went wrong on our side.');
    if (!known) log.error({ err }, 'unhandled error');
    else if (error.status >= 500) log.warn({ code: error.code, err: (err as Error).cause ?? err }, error.message);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.set(error.headers);
    res.status(error.status).json({
      error: { code: error.code, message: error.message, ...(error.field ? { field: error.field } : {}), ...error.details },
    });
  };
}
