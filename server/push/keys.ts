import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { PushConfig } from '../config.js';
import { writeFileDurable } from '../lib/durable-file.js';
import { StartupError } from '../lib/startup-error.js';

/** The server's VAPID key pair (RFC 8292), base64url: the public half is the browser's applicationServerKey. */
export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

/**
 * Where the generated key pair is kept. Every phone's subscription is bound to the public key, so
 * losing it silently ends every subscription: it must live as long as the data does. A file under
 * DATA_DIR here; a database store keeps it in a row.
 */
export interface PushKeyStore {
  load(): Promise<VapidKeys | undefined>;
  /** Keep `keys` unless a pair is kept already (another instance made one first); returns the pair kept. */
  save(keys: VapidKeys): Promise<VapidKeys>;
}

const FILE = 'vapid-keys.json';

/** The key pair as DATA_DIR/vapid-keys.json (0600, written atomically). */
export function filePushKeys(dataDir: string): PushKeyStore {
  const file = path.join(dataDir, FILE);
  return {
    async load() {
      let text: string;
      try {
        text = await fs.readFile(file, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
      const keys = JSON.parse(text) as Partial<VapidKeys>;
      if (typeof keys.publicKey !== 'string' || typeof keys.privateKey !== 'string') {
        throw new StartupError(`${file} is not a VAPID key pair: restore it from a backup, or remove it to make new keys (every phone then subscribes again)`);
      }
      return { publicKey: keys.publicKey, privateKey: keys.privateKey };
    },
    async save(keys) {
      await writeFileDurable(file, `${JSON.stringify(keys)}\n`);
      return keys;
    },
  };
}

export type KeySource = 'environment' | 'stored' | 'generated';

/** The environment's keys, else the stored ones, else a new pair, stored before it is used. */
export async function resolveVapidKeys(config: Readonly<PushConfig>, store: PushKeyStore): Promise<{ keys: VapidKeys; source: KeySource }> {
  if (config.publicKey !== undefined && config.privateKey !== undefined) {
    return { keys: { publicKey: config.publicKey, privateKey: config.privateKey }, source: 'environment' };
  }
  const stored = await store.load();
  if (stored) return { keys: stored, source: 'stored' };
  // Loaded only here, on the first start of all: every later start reads the saved pair.
  const { default: webpush } = await import('web-push');
  return { keys: await store.save(webpush.generateVAPIDKeys()), source: 'generated' };
}

/** The key pair in a shared store's settings: every instance uses the pair the first one kept. */
export function settingPushKeys(settings: { readSetting<T>(name: string): Promise<T | undefined>; setting<T>(name: string, make: () => T): Promise<T> }): PushKeyStore {
  return {
    load: () => settings.readSetting<VapidKeys>('vapid_keys'),
    save: (keys) => settings.setting('vapid_keys', () => keys),
  };
}
