import { promises as fs } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Bad command line: exit 2 with a pointer to --help. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** An expected failure with a message for the operator: exit 1, no stack trace. */
export class Failure extends Error {
  override name = 'Failure';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs, strict; its errors become a UsageError. */
export function parseCli<T extends Options>(options: T, args = process.argv.slice(2)) {
  try {
    return parseArgs({ options, args, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/**
 * Run a command's main: 0 only on success, 1 on a failure, 2 on a usage error. Errors the
 * operator can act on print as one line; anything else prints in full.
 */
export function runCli(name: string, main: () => Promise<number | void>, plainErrors: readonly (new (...a: never[]) => Error)[] = []): void {
  main().then(
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

/** The admin token from --token or ADMIN_TOKEN (the environment keeps it out of `ps` and shell history). */
export function adminToken(flag: string | undefined): string {
  const token = flag ?? process.env.ADMIN_TOKEN;
  if (!token) throw new UsageError('give the admin token with --token or the ADMIN_TOKEN environment variable');
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
