/**
 * A problem an operator must fix before the server can start (bad settings, unreadable data, a
 * folder in use): main prints its message as one plain line and exits 1, without a stack trace.
 */
export class StartupError extends Error {
  override name = 'StartupError';
}
