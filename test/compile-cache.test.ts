// The image compiles the server's modules once at build time (Dockerfile, scripts/warm-compile-cache.ts)
// so that a start reads V8's code instead of compiling it. This checks, on Node 22 and later, that the
// warm-up covers what a real start loads: a server started on that cache compiles nothing anew
// before it listens but main.js, the one module with side effects.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import * as nodeModule from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startServer } from './support/processes.js';
import { tempDataDir } from './support/app.js';

const WARM = fileURLToPath(new URL('../scripts/warm-compile-cache.js', import.meta.url));
const hasCompileCache = 'enableCompileCache' in nodeModule;

describe('the compile cache the image ships', { skip: hasCompileCache ? false : `Node ${process.version} has no compile cache (22 and later have)` }, () => {
  it('holds every module a start loads, so the start compiles only main.js', async (t) => {
    const cache = await mkdtemp(path.join(os.tmpdir(), 'karaoke-compile-cache-'));
    t.after(() => rm(cache, { recursive: true, force: true }));
    const { stdout } = await promisify(execFile)(process.execPath, [WARM], { env: { ...process.env, NODE_COMPILE_CACHE: cache } });
    assert.match(stdout, /compiled into/);
    const [folder] = await readdir(cache);
    assert.ok(folder && (await readdir(path.join(cache, folder))).length > 100, 'the warm-up kept the compiled code of the modules');

    // Node writes what it had to compile into the cache as it exits: one new entry per module.
    const entries = () => readdir(path.join(cache, folder));
    const before = new Set(await entries());
    const server = await startServer(t, await tempDataDir(t), { NODE_COMPILE_CACHE: cache });
    assert.equal((await server.stop('SIGTERM')).code, 0);
    const added = (await entries()).filter((name) => !before.has(name));
    assert.equal(added.length, 1, `a start compiled ${added.length} modules the warm-up had not (main.js is the one expected)`);
  });
});
