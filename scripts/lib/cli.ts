import { promises as fs } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { adminTokenProblem } from '../../server/config.js';

/** Bad command line: exit 2 with a pointer to --help. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** An expected failure with a message for the operator: exit 1, no stack trace. */
export class Failure extends Error {
  override name = 'Failure';
}

type Options = NonNullable<ParseArgsConfig['options']>;
type ErrorClass = new (...a: never[]) => Error;

const HELP_OPTION = { help: { type: 'boolean', short: 'h', default: false } } as const;

/** What node:util parseArgs gives for `options` (strict, no positionals), plus --help. */
export type CliArgs<T extends Options> = ReturnType<
  typeof parseArgs<{ options: T & typeof HELP_OPTION; args: string[]; strict: true; allowPositionals: false }>
>['values'];

export interface CliSpec<T extends Options> {
  /** The command's name, at the start of every error line. */
  name: string;
  /** The usage text --help prints. */
  help: string;
  /** Its options, as node:util parseArgs takes them; --help (-h) is added. */
  options: T;
  /** Errors the operator can act on besides Failure: one line and exit 1, no stack trace. */
  plainErrors?: readonly ErrorClass[];
  args?: string[];
}

function parse<T extends Options>(options: T, args: string[]): CliArgs<T> {
  try {
    return parseArgs({ options: { ...options, ...HELP_OPTION }, args, strict: true, allowPositionals: false }).values as CliArgs<T>;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/**
 * Run a command: parse its options (strict), print its help for --help, else run `main` with
 * them. Exit 0 only on success, 1 on a failure, 2 on a usage error. Errors the operator can act
 * on print as one line; anything else prints in full.
 */
export function runCli<T extends Options>(
  { name, help, options, plainErrors = [], args = process.argv.slice(2) }: CliSpec<T>,
  main: (args: CliArgs<T>) => Promise<number | void>,
): void {
  const run = async () => {
    const values = parse(options, args);
    if ((values as { help?: boolean }).help) {
      console.log(help);
      return 0;
    }
    return main(values);
  };
  run().then(
    (code) => {
      process.exitCode = code ?? 0;
    },
    (err: unknown) => {
      if (err instanceof UsageError) {
        console.error(`${name}: ${err.message}\nRun with --help for usage.`);
        process.exitCode = 2;
      } else if (err instanceof Failure || plainErrors.some((E) => err instanceof E)) {
        console.error(`${name}: ${(err as Error).message}`);
        process.exitCode = 1;
      } else {
        console.error(`${name}: unexpected error:`, err);
        process.exitCode = 1;
      }
    },
  );
}

/** A base URL from the command line: http(s), no trailing slash. */
export function baseUrl(raw: string | undefined, flag = '--url'): string {
  if (!raw) throw new UsageError(`${flag} is required (for example ${flag} https://my-karaoke.fly.dev)`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`${flag} ${JSON.stringify(raw)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${flag} must be an http(s) URL`);
  return url.href.replace(/\/+$/, '');
}

/**
 * The admin token from --token or ADMIN_TOKEN (the environment keeps it out of `ps` and shell
 * history), checked as the server checks its own ADMIN_TOKEN at start.
 */
export function adminToken(flag: string | undefined): string {
  const token = flag ?? process.env.ADMIN_TOKEN;
  if (!token) throw new UsageError('give the admin token with --token or the ADMIN_TOKEN environment variable');
  const problem = adminTokenProblem(token);
  if (problem) throw new UsageError(`${flag !== undefined ? '--token' : 'ADMIN_TOKEN'} ${problem}`);
  return token;
}

/** fetch with a timeout; an unreachable server becomes a Failure naming the URL. */
export async function http(url: string, init: RequestInit = {}, timeoutMs = 15_000): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    throw new Failure(`cannot reach ${url}: ${why}`);
  }
}

/** The `{error: {code, message}}` of an API answer, or its status line. */
export async function apiError(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (body.error?.code) return `${res.status} ${body.error.code}: ${body.error.message ?? ''}`;
  } catch {
    // not JSON: fall through
  }
  return `${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`;
}

/**
 * Files written as root into a DATA_DIR that belongs to the server's user (uid 1000 in the image)
 * would be unreadable to the server at its next start: refuse before writing anything.
 */
export async function requireDataDirOwner(dataDir: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const owner = await fs.stat(dataDir).then((s) => s.uid, () => 0);
  if (owner !== 0) {
    throw new Failure(
      `${dataDir} belongs to uid ${owner}, and this runs as root: the server could not read what it writes. ` +
        `Run it as that user, e.g. \`runuser -u node -- node dist/scripts/...\` or \`su node -s /bin/sh -c '...'\`.`,
    );
  }
}
