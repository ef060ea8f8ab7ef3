import path from 'node:path';
import { filePushKeys, type VapidKeys } from '../server/push/keys.js';
import { LockHeldError, openPgStore, openStore, describePgUrl, type SessionStore } from '../server/store/index.js';
import { Failure, runCli, UsageError } from './lib/cli.js';

const HELP = `Usage: npm run move-store -- --from WHERE --to WHERE [--dry-run] [--force]

Moves every session, its archive of nights and its songbook, and the push keys,
from one store to the other: a DATA_DIR (the JSON store) to a PostgreSQL
database, or back. WHERE is a folder, or a postgres:// URL (as DATABASE_URL).

Stop the servers on both first: a change made during the move would be left
behind. A DATA_DIR in use by a running server is refused (its lock is held).

  --from WHERE   where the data is now
  --to WHERE     where it goes; must be empty unless --force
  --dry-run      open both, count what would move, write nothing
  --force        replace what the target holds (its sessions are removed)
  --help         show this

Prints the counts before and after. QR codes are rebuilt by the server on
demand. Exit status: 0 when moved (or a dry run), 1 on a failure or a refusal,
2 on bad arguments.`;

const OPTIONS = {
  from: { type: 'string' },
  to: { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  force: { type: 'boolean', default: false },
} as const;

interface Opened {
  store: SessionStore;
  label: string;
  loadKeys(): Promise<VapidKeys | undefined>;
  saveKeys(keys: VapidKeys): Promise<void>;
}

const isDatabase = (where: string) => /^postgres(ql)?:\/\//.test(where);

async function open(where: string): Promise<Opened> {
  if (isDatabase(where)) {
    const store = await openPgStore({ connectionString: where }).catch((err: Error) => {
      throw new Failure(`cannot open ${describePgUrl(where)}: ${err.message}`);
    });
    return {
      store,
      label: describePgUrl(where),
      loadKeys: () => store.readSetting<VapidKeys>('vapid_keys'),
      saveKeys: (keys) => store.putSetting('vapid_keys', keys),
    };
  }
  const dataDir = path.resolve(where);
  const { store } = await openStore({ dataDir }).catch((err: unknown) => {
    if (err instanceof LockHeldError) throw new Failure(`${err.message} Stop that server first.`);
    throw err;
  });
  const keys = filePushKeys(dataDir);
  return { store, label: dataDir, loadKeys: () => keys.load(), saveKeys: async (k) => void (await keys.save(k)) };
}

interface Counts {
  sessions: number;
  nights: number;
  songbooks: number;
}

async function count(store: SessionStore): Promise<Counts> {
  const counts: Counts = { sessions: 0, nights: 0, songbooks: 0 };
  for (const session of store.sessions()) {
    counts.sessions += 1;
    counts.nights += (await store.nights.list(session.id)).length;
    if (session.songbook) counts.songbooks += 1;
  }
  return counts;
}

const show = (c: Counts) => `${c.sessions} session(s), ${c.nights} archived night(s), ${c.songbooks} songbook(s)`;

runCli({ name: 'move-store', help: HELP, options: OPTIONS, plainErrors: [LockHeldError] }, async (args) => {
  if (!args.from || !args.to) throw new UsageError('--from and --to are both required');
  if (isDatabase(args.from) === isDatabase(args.to) && path.resolve(args.from) === path.resolve(args.to)) throw new UsageError('--from and --to are the same place');
  const source = await open(args.from);
  let target: Opened | undefined;
  try {
    target = await open(args.to);
    const before = { source: await count(source.store), target: await count(target.store) };
    console.log(`from ${source.label}: ${show(before.source)}`);
    console.log(`to   ${target.label}: ${show(before.target)}`);
    if (before.target.sessions > 0 && !args.force) {
      throw new Failure(`${target.label} is not empty (${show(before.target)}); nothing was written. Run with --force to replace what it holds.`);
    }
    if (args['dry-run']) {
      console.log('dry run: nothing written');
      return 0;
    }
    const sessions = Object.fromEntries([...source.store.sessions()].map((s) => [s.id, s]));
    const replaced = [...target.store.sessions()].filter((s) => !Object.hasOwn(sessions, s.id)).map((s) => s.id);
    await target.store.replaceAll(sessions);
    for (const id of replaced) {
      await target.store.nights.removeAll(id);
      await target.store.songbooks.remove(id);
    }
    for (const id of Object.keys(sessions)) {
      await target.store.nights.replace(id, await source.store.nights.list(id));
      const songbook = await source.store.songbooks.getEncoded(id);
      if (songbook) await target.store.songbooks.putEncoded(id, songbook);
      else await target.store.songbooks.remove(id);
    }
    const keys = await source.loadKeys();
    // The phones' push subscriptions are bound to this key pair: it moves with the data.
    if (keys) await target.saveKeys(keys);
    const after = await count(target.store);
    console.log(`moved: ${target.label} now holds ${show(after)}${keys ? ', and the push keys' : ''}`);
    if (after.sessions !== before.source.sessions || after.nights !== before.source.nights || after.songbooks !== before.source.songbooks) {
      throw new Failure(`the counts after the move differ from the source's (${show(before.source)}): check ${target.label}`);
    }
    return 0;
  } finally {
    await target?.store.close();
    await source.store.close();
  }
});
