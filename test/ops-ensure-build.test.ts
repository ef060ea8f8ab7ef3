import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDataDir } from './support/app.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** A tiny project laid out like this one, with the real ensure-build script and the real TypeScript. */
async function project(t: TestContext, withSources = true): Promise<string> {
  const root = await tempDataDir(t, 'karaoke-build-');
  await fs.mkdir(path.join(root, 'scripts'));
  await fs.copyFile(path.join(REPO, 'scripts', 'ensure-build.mjs'), path.join(root, 'scripts', 'ensure-build.mjs'));
  await fs.writeFile(path.join(root, 'package.json'), '{"type":"module"}');
  await fs.symlink(path.join(REPO, 'node_modules'), path.join(root, 'node_modules'));
  if (withSources) {
    await fs.mkdir(path.join(root, 'server'));
    await fs.writeFile(path.join(root, 'server', 'main.ts'), 'export const answer: number = 42;\n');
    await fs.writeFile(
      path.join(root, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'NodeNext', target: 'ES2022', lib: ['ES2022'], skipLibCheck: true, strict: true, rootDir: '.', outDir: 'dist', incremental: true, tsBuildInfoFile: 'dist/.tsbuildinfo', types: [] },
        include: ['server/**/*.ts'],
      }),
    );
  }
  return root;
}

function ensureBuild(root: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(root, 'scripts', 'ensure-build.mjs')], { cwd: root, encoding: 'utf8' }, (err, _out, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
}

const setTime = (file: string, ms: number) => fs.utimes(file, new Date(ms), new Date(ms));

describe('ensure-build', () => {
  it('ensure-build does nothing where there are no server sources (the production image)', async (t) => {
    const root = await project(t, false);
    const result = await ensureBuild(root);
    assert.deepEqual(result, { code: 0, stderr: '' });
    await assert.rejects(fs.stat(path.join(root, 'dist')));
  });

  it('ensure-build compiles when there is no build, then not again until a source is newer', async (t) => {
    const root = await project(t);
    const main = path.join(root, 'dist', 'server', 'main.js');

    const first = await ensureBuild(root);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /no build yet; compiling/);
    assert.match(await fs.readFile(main, 'utf8'), /answer = 42/);

    const second = await ensureBuild(root);
    assert.deepEqual(second, { code: 0, stderr: '' });

    // A source edited after the build, dated explicitly rather than waiting for the clock.
    const later = Date.now() + 60_000;
    await fs.writeFile(path.join(root, 'server', 'main.ts'), 'export const answer: number = 43;\n');
    await setTime(path.join(root, 'server', 'main.ts'), later);
    const third = await ensureBuild(root);
    assert.equal(third.code, 0, third.stderr);
    assert.match(third.stderr, /sources changed since the last build; compiling/);
    assert.match(await fs.readFile(main, 'utf8'), /answer = 43/);
    assert.deepEqual(await ensureBuild(root), { code: 0, stderr: '' });
  });

  it('ensure-build fails when the sources do not compile', async (t) => {
    const root = await project(t);
    await fs.writeFile(path.join(root, 'server', 'main.ts'), 'export const answer: number = "forty-two";\n');
    const result = await ensureBuild(root);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /the TypeScript build failed/);
  });
});
