import { StartupError } from '../lib/startup-error.js';

/**
 * The store's own errors. They say nothing of HTTP: errors.ts maps the first two to 503, and
 * main prints the start-up ones as one line.
 */

/** A change could not be made durable (full or read-only disk, a lost database): nothing was changed. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
}

/**
 * A change was built on a state that is no longer the newest (another instance changed the session
 * first, or an earlier change here failed): nothing was written, and the change must be made again
 * on the newest state. Only a store shared by several instances raises it.
 */
export class StoreConflictError extends Error {
  override name = 'StoreConflictError';

  constructor(readonly sessionId: string) {
    super(`session ${sessionId} changed meanwhile`);
  }
}

/** The store is closing (a shutdown): no more changes are taken. */
export class StoreClosedError extends Error {
  override name = 'StoreClosedError';
}

/** The stored data cannot be read as it is; it is never overwritten. */
export class UnreadableDataError extends StartupError {
  override name = 'UnreadableDataError';

  /** `problem` says what is wrong, `advice` what an operator does about it at start. */
  constructor(
    readonly problem: string,
    readonly advice = '',
  ) {
    super(advice ? `${problem} ${advice}` : problem);
  }
}

/** Another live server holds this DATA_DIR. */
export class LockHeldError extends StartupError {
  override name = 'LockHeldError';
}
