import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig } from '../server/config.js';
import {
  backupSongbooks,
  BackupNotFoundError,
  InvalidExportError,
  isPreMigration,
  listBackups,
  LockHeldError,
  parseExport,
  restoreBackup,
} from '../server/store/index.js';
import { Failure, requireDataDirOwner, runCli, UsageError } from './lib/cli.js';

const HELP = `Usage: npm run backups -- [--data-dir DIR] [--list | --restore NAME]

Lists the backups the server keeps in DATA_DIR/backups (scheduled snapshots, and
copies made before a schema migration, an import or a restore), or restores one.

  --list           list them, oldest first, each checked (the default)
  --restore NAME   put backup NAME in place of DATA_DIR/data.json; NAME as listed,
                   or "latest". Only while the server is stopped: refused when a
                   running server holds DATA_DIR/.lock. What it replaces (data.json
                   with any journal left by a crash replayed onto it) is kept as a
                   "pre-restore" backup, and the journal is emptied. The
                   songbooks kept with the backup come back with it. Start the
                   server afterwards.
  --data-dir DIR   the data folder (default: DATA_DIR, else /data in production,
                   ./data otherwise)
  --help           show this

Exit status: 0 on success, 1 on failure (no such backup, invalid backup, server
running), 2 on bad arguments.`;

function size(bytes: number): string {
  return bytes < 10_240 ? `${bytes} B` : bytes < 10_485_760 ? `${Math.round(bytes / 1024)} KiB` : `${Math.round(bytes / 1_048_576)} MiB`;
}

async function list(dataDir: string): Promise<number> {
  const entries = await listBackups(dataDir);
  if (entries.length === 0) {
    console.log(`no backups in ${path.join(dataDir, 'backups')}`);
    return 0;
  }
  console.log(`backups in ${path.join(dataDir, 'backups')} (oldest first):`);
  for (const e of entries) {
    let check: string;
    try {
      const { data, migratedFrom } = parseExport(await fs.readFile(e.file, 'utf8'), e.name);
      const songbooks = (await backupSongbooks(e)).size;
      check = `${Object.keys(data.sessions).length} session(s), ${songbooks} songbook(s), schema v${migratedFrom ?? data.version}`;
    } catch (err) {
      check = `NOT RESTORABLE: ${(err as Error).message}`;
    }
    const kept = isPreMigration(e) ? ', kept' : '';
    console.log(`  ${e.name}  ${e.createdAt.toISOString()}  ${e.reason}${kept}  ${size(e.bytes)}  ${check}`);
  }
  return 0;
}

const OPTIONS = {
  'data-dir': { type: 'string' },
  list: { type: 'boolean', default: false },
  restore: { type: 'string' },
} as const;

const plainErrors = [LockHeldError, BackupNotFoundError, InvalidExportError, ConfigError];

runCli({ name: 'backups', help: HELP, options: OPTIONS, plainErrors }, async (args) => {
  if (args.list && args.restore !== undefined) throw new UsageError('--list and --restore do not go together');
  const dataDir = args['data-dir'] ? path.resolve(args['data-dir']) : loadConfig(process.env).dataDir;
  if (!(await fs.stat(dataDir).then((s) => s.isDirectory(), () => false))) throw new Failure(`${dataDir} is not a folder`);
  if (args.restore === undefined) return list(dataDir);

  await requireDataDirOwner(dataDir);
  const result = await restoreBackup(dataDir, args.restore);
  console.log(
    `restored ${result.restored.name} (${result.sessions} session(s), schema v${result.schemaVersion}) to ${path.join(dataDir, 'data.json')}`,
  );
  console.log(
    `songbooks: ${result.songbooksRestored} put back from the backup` +
      (result.songbooksNotKept > 0 ? `; ${result.songbooksNotKept} named by it are not kept with it (an older backup), left as they are` : ''),
  );
  console.log(
    result.previous
      ? `the state it replaced is kept as backups/${result.previous.name}`
      : 'there was no data.json before',
  );
  console.log('start the server now');
  return 0;
});
