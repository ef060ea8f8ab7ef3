import { spawnSync } from 'node:child_process';
import { accessSync, constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { writeFileDurable } from '../server/lib/durable-file.js';
import { baseUrl, Failure, runCli, UsageError } from './lib/cli.js';
import { compare, record, removeSession, summary, waitForRestart, type Recorded } from './lib/persistence-check.js';

const HELP = `Usage: npm run verify-persistence -- --url BASE [--restart-cmd CMD | --fly-app NAME]
       npm run verify-persistence -- --url BASE --phase record [--state-file F]
       npm run verify-persistence -- --phase verify [--state-file F]

Proves that a restart loses nothing: creates a marked session ("persistence-check
<time>") with singers, a queue, a current song, history and a songbook, records it,
the SHA-256 of its QR PNG and of its songbook, and a search of the songbook in a
state file, then, after the server restarts, waits for /healthz to answer from a
new process and checks that the session, its queue, its songbook (and what a
search finds in it) and its QR PNG are identical. Prints PASS or FAIL with what differed. On PASS the
marked session and the state file are removed (unless --keep).

  --url BASE         the server, e.g. https://my-karaoke.fly.dev (with --fly-app,
                     default https://NAME.fly.dev; in the verify phase, default the
                     URL in the state file)
  --phase P          all (default): record, restart, verify
                     record: record only; restart the server yourself afterwards
                     verify: verify what the record phase saved
  --restart-cmd CMD  restart with this shell command (phase all), for example
                     "docker restart karaoke" or "systemctl restart karaoke"
  --fly-app NAME     restart with \`fly machine restart\` (needs fly on PATH)
  --state-file F     where the record is kept (default ./persistence-check.json)
  --timeout SECONDS  how long to wait for the restarted server (default 180)
  --keep             keep the marked session after PASS
  --help             show this

Without --restart-cmd or --fly-app, phase all asks you to restart the server and
press Enter (on a terminal). Exit status: 0 only on PASS; 1 on FAIL or when nothing
could be verified; 2 on bad arguments.`;

const say = (line: string) => console.log(`verify-persistence: ${line}`);

function onPath(names: string[]): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    for (const name of names) {
      const file = path.join(dir, name);
      try {
        accessSync(file, constants.X_OK);
        return file;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

/** Run a command to the end; its output is captured when `capture`, else shown as it comes. */
function run(command: string, args: string[], what: string, capture = false): string {
  const result = spawnSync(command, args, { stdio: ['inherit', capture ? 'pipe' : 'inherit', 'inherit'], encoding: 'utf8' });
  if (result.error) throw new Failure(`${what} could not run: ${result.error.message}`);
  if (result.status !== 0) throw new Failure(`${what} failed (exit ${result.status ?? result.signal}); nothing was verified`);
  return result.stdout ?? '';
}

function restartFly(app: string): void {
  const fly = onPath(['fly', 'flyctl']);
  if (!fly) throw new Failure('--fly-app needs the fly command on PATH (https://fly.io/docs/flyctl/install/)');
  const machines = JSON.parse(run(fly, ['machine', 'list', '--app', app, '--json'], 'fly machine list', true)) as { id: string }[];
  if (machines.length === 0) throw new Failure(`fly app ${app} has no machines`);
  if (machines.length > 1) say(`WARNING: ${app} has ${machines.length} machines; an app with a volume should have exactly one`);
  say(`restarting ${machines.map((m) => m.id).join(', ')} with fly machine restart...`);
  run(fly, ['machine', 'restart', ...machines.map((m) => m.id), '--app', app, '--signal', 'SIGTERM'], 'fly machine restart');
}

async function restart(args: { 'restart-cmd'?: string | undefined; 'fly-app'?: string | undefined }): Promise<void> {
  if (args['restart-cmd']) {
    say(`restarting with: ${args['restart-cmd']}`);
    run('sh', ['-c', args['restart-cmd']], 'the restart command');
  } else if (args['fly-app']) {
    restartFly(args['fly-app']);
  } else if (process.stdin.isTTY) {
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    await rl.question('Restart the server now (machine, container or process), then press Enter: ');
    rl.close();
  } else {
    throw new UsageError('give --restart-cmd or --fly-app, or run --phase record and --phase verify around your own restart');
  }
}

async function readState(file: string): Promise<Recorded> {
  const text = await fs.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new Failure(err.code === 'ENOENT' ? `${file} does not exist; run the record phase first` : `cannot read ${file}: ${err.message}`);
  });
  try {
    const recorded = JSON.parse(text) as Recorded;
    if (recorded.format === 1 && typeof recorded.sessionId === 'string') return recorded;
  } catch {
    // reported below
  }
  throw new Failure(`${file} is not a state file written by the record phase`);
}

async function verify(base: string, recorded: Recorded, stateFile: string, timeoutMs: number, keep: boolean): Promise<number> {
  say(`waiting for ${base}/healthz to answer from a restarted server...`);
  await waitForRestart(base, recorded, timeoutMs, say);
  const problems = await compare(base, recorded);
  if (problems.length > 0) {
    console.log(`FAIL: ${summary(recorded)} did not survive the restart intact:`);
    for (const p of problems) console.log(`  - ${p}`);
    console.log(`The session and ${stateFile} are kept for a closer look.`);
    return 1;
  }
  console.log(`PASS: ${summary(recorded)} are identical after the restart`);
  if (!keep) {
    await removeSession(base, recorded);
    await fs.rm(stateFile, { force: true });
    say(`removed the check session and ${stateFile}`);
  }
  return 0;
}

const OPTIONS = {
  url: { type: 'string' },
  phase: { type: 'string', default: 'all' },
  'restart-cmd': { type: 'string' },
  'fly-app': { type: 'string' },
  'state-file': { type: 'string', default: 'persistence-check.json' },
  timeout: { type: 'string', default: '180' },
  keep: { type: 'boolean', default: false },
} as const;

runCli({ name: 'verify-persistence', help: HELP, options: OPTIONS }, async (args) => {
  const phase = args.phase;
  if (phase !== 'all' && phase !== 'record' && phase !== 'verify') throw new UsageError('--phase must be all, record or verify');
  if (args['restart-cmd'] && args['fly-app']) throw new UsageError('--restart-cmd and --fly-app do not go together');
  if (phase !== 'all' && (args['restart-cmd'] || args['fly-app'])) {
    throw new UsageError(`--restart-cmd and --fly-app belong to phase all; with --phase ${phase} you restart the server yourself`);
  }
  const timeoutSeconds = Number(args.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new UsageError('--timeout must be a positive number of seconds');
  const stateFile = path.resolve(args['state-file']);

  if (phase === 'verify') {
    const recorded = await readState(stateFile);
    const base = args.url ? baseUrl(args.url) : recorded.url;
    return verify(base, recorded, stateFile, timeoutSeconds * 1000, args.keep);
  }

  const base = baseUrl(args.url ?? (args['fly-app'] ? `https://${args['fly-app']}.fly.dev` : undefined));
  if (await fs.stat(stateFile).then(() => true, () => false)) say(`replacing ${stateFile} from an earlier run`);
  const recorded = await record(base);
  // Durable: the record must itself survive whatever restart comes next.
  await writeFileDurable(stateFile, JSON.stringify(recorded, null, 2));
  say(`recorded ${summary(recorded)} in ${stateFile}`);
  if (phase === 'record') {
    say(`now restart the server, then run: npm run verify-persistence -- --phase verify --state-file ${stateFile}`);
    return 0;
  }
  await restart(args);
  return verify(base, recorded, stateFile, timeoutSeconds * 1000, args.keep);
});
