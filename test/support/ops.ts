import { execFile } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pino, type Logger } from 'pino';

/** The compiled operator scripts, next to this file once built: dist/test/support/ → dist/scripts/. */
export const scriptPath = (name: string): string => fileURLToPath(new URL(`../../scripts/${name}.js`, import.meta.url));

/** The repository's own test/fixtures (fixtures are not compiled). */
export const fixturePath = (rel: string): string => fileURLToPath(new URL(`../../../test/fixtures/${rel}`, import.meta.url));

export interface ScriptResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run an operator script as the operator would, on the Node running the tests, with a clean environment. */
export function runScript(name: string, args: string[], env: Record<string, string> = {}): Promise<ScriptResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [scriptPath(name), ...args],
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, encoding: 'utf8', timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A pino logger whose lines the test can read. */
export function captureLog(): { log: Logger; lines: () => { msg: string; [k: string]: unknown }[] } {
  const out: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      out.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines: () => out.map((l) => JSON.parse(l) as { msg: string }) };
}
