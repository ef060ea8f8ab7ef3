import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InvalidExportError, parseExport } from '../server/store/index.js';
import { writeFileDurable } from '../server/lib/durable-file.js';
import { adminToken, apiError, baseUrl, Failure, http, runCli } from './lib/cli.js';

const HELP = `Usage: npm run backup -- --url BASE [--token TOKEN] [--out FILE] [--force]

Downloads a consistent export of every session (in data.json's format, every change
that is on disk) from GET BASE/api/admin/export and saves it, after checking it is complete.

  --url BASE     the server, e.g. https://my-karaoke.fly.dev or http://127.0.0.1:3000
  --token TOKEN  the server's ADMIN_TOKEN (better: set ADMIN_TOKEN in the environment)
  --out FILE     where to save it (default: the server's suggested name, in this folder)
  --force        replace FILE if it exists
  --help         show this

Exit status: 0 when the export was saved, 1 when it failed, 2 on bad arguments.
Put it back with: npm run restore -- --url BASE --file FILE`;

const OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  out: { type: 'string' },
  force: { type: 'boolean', default: false },
} as const;

runCli({ name: 'backup', help: HELP, options: OPTIONS }, async (args) => {
  const base = baseUrl(args.url);
  const token = adminToken(args.token);
  const res = await http(`${base}/api/admin/export`, { headers: { Authorization: `Bearer ${token}` } }, 120_000);
  if (res.status === 404) {
    throw new Failure(`${base} has no admin endpoints: set ADMIN_TOKEN on the server (on Fly: fly secrets set ADMIN_TOKEN=...)`);
  }
  if (!res.ok) throw new Failure(`export refused: ${await apiError(res)}`);
  const text = await res.text();
  let sessions: number;
  let version: number;
  try {
    const { data, migratedFrom } = parseExport(text, 'the download');
    sessions = Object.keys(data.sessions).length;
    version = migratedFrom ?? data.version;
  } catch (err) {
    if (err instanceof InvalidExportError) throw new Failure(`${err.message} Nothing was saved.`);
    throw err;
  }
  const suggested = /filename="([A-Za-z0-9._-]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1];
  const out = path.resolve(args.out ?? suggested ?? `karaoke-export-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  if (!args.force && (await fs.stat(out).then(() => true, () => false))) {
    throw new Failure(`${out} already exists; choose another --out or pass --force. Nothing was saved.`);
  }
  // Durable and 0600: the export holds key hashes and guests' names.
  await writeFileDurable(out, text);
  console.log(`saved ${sessions} session(s), ${Buffer.byteLength(text)} bytes, schema version ${version}, to ${out}`);
  return 0;
});
