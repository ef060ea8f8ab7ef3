import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { SessionStore } from '../store/store.js';

export interface MaintenanceDeps {
  config: Readonly<Config>;
  store: SessionStore;
  log: Logger;
}

/** Scheduled jobs (backups, housekeeping) run beside the server; stop() cancels them on shutdown. */
export function startMaintenance(_deps: MaintenanceDeps): { stop(): void } {
  return { stop() {} };
}
