import path from 'node:path';
import { ConfigError, loadConfig } from '../server/config.js';
import { LegacyImportError, importLegacy } from '../server/legacy/import.js';
import { LockHeldError, UnreadableDataError } from '../server/store/index.js';
import { baseUrl, requireDataDirOwner, runCli, UsageError } from './lib/cli.js';

const HELP = `Usage: npm run import-legacy -- --from OLD_APP_DIR [--data-dir DIR] [--merge] [--dry-run] [--origin URL]

Copies the sessions and QR codes of the older version of this app, which kept
data.json in its own folder and QR PNGs in public/qr-codes/, into DATA_DIR once:
plain host keys are stored hashed, songs and singers get ids, sessions keep their
code when it is a valid one (so printed QR codes keep working) and get a new one
otherwise. Run it while the server is stopped; it refuses when a server holds
the DATA_DIR lock. It says what it did, session by session.

  --from DIR      the old app folder (holding data.json and public/qr-codes/)
  --data-dir DIR  the data folder (default: DATA_DIR, else /data in production,
                  ./data otherwise)
  --merge         add the legacy sessions to a DATA_DIR that already has sessions;
                  existing sessions and files are never changed, sessions imported
                  before are skipped (without it, a DATA_DIR with sessions is refused)
  --dry-run       say what would happen, write nothing
  --origin URL    the public origin the sessions' links use when PUBLIC_URL is unset
                  (default: the legacy file's baseUrl, then PUBLIC_URL)
  --help          show this

Exit status: 0 when the import was done (or would be, with --dry-run), 1 when it
was refused or failed, 2 on bad arguments.`;

const OPTIONS = {
  from: { type: 'string' },
  'data-dir': { type: 'string' },
  merge: { type: 'boolean', default: false },
  'dry-run': { type: 'boolean', default: false },
  origin: { type: 'string' },
} as const;

const plainErrors = [LegacyImportError, LockHeldError, UnreadableDataError, ConfigError];

runCli({ name: 'import-legacy', help: HELP, options: OPTIONS, plainErrors }, async (args) => {
  if (!args.from) throw new UsageError('--from is required');
  const config = loadConfig(process.env);
  const dataDir = args['data-dir'] ? path.resolve(args['data-dir']) : config.dataDir;
  if (!args['dry-run']) await requireDataDirOwner(dataDir);
  const report = await importLegacy({
    from: path.resolve(args.from),
    dataDir,
    merge: args.merge,
    dryRun: args['dry-run'],
    origin: args.origin === undefined ? undefined : baseUrl(args.origin, '--origin'),
    publicUrl: config.publicUrl,
  });
  for (const line of report.lines) console.log(line);
  return 0;
});
