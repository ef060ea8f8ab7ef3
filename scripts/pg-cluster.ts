// A throw-away PostgreSQL cluster on a temporary folder and a free port, for tests and benchmarks:
// initdb and pg_ctl, no system service. PostgreSQL refuses to run as root, so as root it runs as
// the `postgres` user that Debian's package creates.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PgCluster {
  /** postgres://karaoke@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  dir: string;
  /** The URL of another database in the cluster. */
  urlOf(database: string): string;
  /** pg_ctl stop (`fast` by default: clients are disconnected, nothing committed is lost). */
  stop(mode?: 'smart' | 'fast' | 'immediate'): Promise<void>;
  /** Start again after stop(). */
  start(): Promise<void>;
  /** Stop and remove the folder. */
  destroy(): Promise<void>;
}

/** Where initdb and pg_ctl are: PG_BIN, else the newest of Debian's /usr/lib/postgresql/<n>/bin, else PATH. */
export function pgBinDir(): string | undefined {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(path.join(root, v, 'bin', 'pg_ctl')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return path.join(root, versions[0], 'bin');
  }
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(path.join(dir, 'pg_ctl'))) return dir;
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const asRoot = () => process.getuid?.() === 0;

function pg(bin: string, tool: string, args: string[]): Promise<unknown> {
  const exe = path.join(bin, tool);
  return asRoot() ? run('runuser', ['-u', 'postgres', '--', exe, ...args]) : run(exe, args);
}

export async function startPgCluster(): Promise<PgCluster> {
  const bin = pgBinDir();
  if (!bin) throw new Error("PostgreSQL's initdb and pg_ctl were not found: install Debian's postgresql package, or set PG_BIN");
  const dir = await mkdtemp(path.join(os.tmpdir(), 'karaoke-pg-'));
  if (asRoot()) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const data = path.join(dir, 'data');
  await pg(bin, 'initdb', ['-D', data, '-U', 'karaoke', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=300`;
  const start = async () => {
    await pg(bin, 'pg_ctl', ['-D', data, '-o', options, '-l', path.join(dir, 'server.log'), '-w', 'start']);
  };
  await start();
  const urlOf = (database: string) => `postgres://karaoke@127.0.0.1:${port}/${database}`;
  let running = true;
  return {
    url: urlOf('postgres'),
    port,
    dir,
    urlOf,
    async stop(mode = 'fast') {
      await pg(bin, 'pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']);
      running = false;
    },
    async start() {
      await start();
      running = true;
    },
    async destroy() {
      if (running) await pg(bin, 'pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {});
      running = false;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
