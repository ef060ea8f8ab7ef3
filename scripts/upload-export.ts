import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InvalidExportError, parseExport } from '../server/store/index.js';
import { adminToken, apiError, baseUrl, Failure, http, runCli, UsageError } from './lib/cli.js';

const HELP = `Usage: npm run restore -- --url BASE [--token TOKEN] --file FILE

Replaces every session on the server with those in FILE, an export saved by
\`npm run backup\` (or a data.json backup). The file is checked here first and
refused if it is not a complete, valid export; nothing is sent then. The server
keeps what it replaces as a backup in DATA_DIR/backups (named in the output).
Sessions in FILE that differ from the server's get a higher version, so open
pages take the restored state; sessions not in FILE are removed.

  --url BASE     the server, e.g. https://my-karaoke.fly.dev or http://127.0.0.1:3000
  --token TOKEN  the server's ADMIN_TOKEN (better: set ADMIN_TOKEN in the environment)
  --file FILE    the export to restore
  --help         show this

Exit status: 0 when the server restored the file, 1 when it failed or was refused,
2 on bad arguments.`;

interface ImportAnswer {
  imported: { sessions: number; added: number; updated: number; removed: number; unchanged: number };
  migratedFrom: number | null;
  backup: string;
}

const OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  file: { type: 'string' },
} as const;

runCli({ name: 'restore', help: HELP, options: OPTIONS }, async (args) => {
  const base = baseUrl(args.url);
  const token = adminToken(args.token);
  if (!args.file) throw new UsageError('--file is required');
  const file = path.resolve(args.file);
  const text = await fs.readFile(file, 'utf8').catch((err: Error) => {
    throw new Failure(`cannot read ${file}: ${err.message}`);
  });
  try {
    parseExport(text, file);
  } catch (err) {
    if (err instanceof InvalidExportError) throw new Failure(`${err.message} Nothing was sent.`);
    throw err;
  }
  const res = await http(
    `${base}/api/admin/import`,
    { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: text },
    120_000,
  );
  if (res.status === 404) {
    throw new Failure(`${base} has no admin endpoints: set ADMIN_TOKEN on the server (on Fly: fly secrets set ADMIN_TOKEN=...)`);
  }
  if (!res.ok) throw new Failure(`restore refused: ${await apiError(res)}`);
  const answer = (await res.json()) as ImportAnswer;
  const i = answer.imported;
  console.log(
    `restored ${i.sessions} session(s) from ${file}: ${i.added} added, ${i.updated} updated, ${i.removed} removed, ${i.unchanged} unchanged` +
      (answer.migratedFrom !== null ? ` (migrated from schema version ${answer.migratedFrom})` : ''),
  );
  console.log(`the server kept its previous data as backups/${answer.backup} in its DATA_DIR`);
  return 0;
});
