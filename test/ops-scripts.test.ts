import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { listBackups, SCHEMA_VERSION } from '../server/store/index.js';
import { buildApp, createSession, durableText, joinAs, listen, queueOf, requestSong, tempDataDir } from './support/app.js';
import { runScript } from './support/ops.js';

const TOKEN = 'u4GzT8pNq2YwK6eMr9XbS3hA';

async function server(t: TestContext, adminToken: string | null = TOKEN) {
  const app = await buildApp(t, { config: { adminToken: adminToken ?? undefined } });
  const { url } = await listen(t, app);
  return { app, url };
}

describe('operator scripts', () => {
  // The npm script an operator types, and the file it runs.
  const scripts = [
    ['backup', 'download-export'],
    ['restore', 'upload-export'],
    ['backups', 'local-backups'],
    ['verify-persistence', 'verify-persistence'],
    ['import-legacy', 'import-legacy'],
  ] as const;
  for (const [name, file] of scripts) {
    it(`${name} (${file}) --help prints its usage and exits 0; an unknown option exits 2`, async () => {
      const help = await runScript(file, ['--help']);
      assert.equal(help.code, 0, help.stderr);
      assert.match(help.stdout, new RegExp(`^Usage: npm run ${name} -- `));
      assert.match(help.stdout, /Exit status: 0/);
      const bad = await runScript(file, ['--no-such-option']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /Run with --help for usage/);
    });
  }

  it('backup saves the export, identical to the durable state, and will not overwrite a file without --force', async (t) => {
    const { app, url } = await server(t);
    const s = await createSession(app.app);
    const ann = await joinAs(app.app, s.id, 'Ann');
    await requestSong(app.app, s.id, ann.key, 'Song A');
    const dir = await tempDataDir(t, 'karaoke-backup-out-');
    const out = path.join(dir, 'export.json');

    // The token from the environment, as the docs advise.
    const saved = await runScript('download-export', ['--url', url, '--out', out], { ADMIN_TOKEN: TOKEN });
    assert.equal(saved.code, 0, saved.stderr);
    assert.match(saved.stdout, new RegExp(`saved 1 session\\(s\\), \\d+ bytes, schema version ${SCHEMA_VERSION}, to `));
    assert.equal(await fs.readFile(out, 'utf8'), await durableText(app.dataDir));
    assert.equal((await fs.stat(out)).mode & 0o777, 0o600);

    const again = await runScript('download-export', ['--url', url, '--token', TOKEN, '--out', out]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists/);
    assert.equal((await runScript('download-export', ['--url', url, '--token', TOKEN, '--out', out, '--force'])).code, 0);
  });

  it('backup and restore check the admin token as the server checks ADMIN_TOKEN, before sending anything', async () => {
    const flag = await runScript('download-export', ['--url', 'http://127.0.0.1:9', '--token', 'short']);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /--token must be at least 24 characters/);
    const env = await runScript('upload-export', ['--url', 'http://127.0.0.1:9', '--file', 'x.json'], { ADMIN_TOKEN: 'short' });
    assert.equal(env.code, 2);
    assert.match(env.stderr, /ADMIN_TOKEN must be at least 24 characters/);
  });

  it('backup fails clearly on a wrong token, a server without admin routes, and a server that is down', async (t) => {
    const { url } = await server(t);
    const wrong = await runScript('download-export', ['--url', url, '--token', 'not-the-right-token-at-all-000']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /401 unauthorized/);

    const plain = await server(t, null);
    const none = await runScript('download-export', ['--url', plain.url, '--token', TOKEN]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no admin endpoints: set ADMIN_TOKEN/);

    const down = await runScript('download-export', ['--url', 'http://127.0.0.1:9', '--token', TOKEN]);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /cannot reach http:\/\/127\.0\.0\.1:9/);

    const noToken = await runScript('download-export', ['--url', url]);
    assert.equal(noToken.code, 2);
  });

  it('restore puts a backup back on a running server', async (t) => {
    const { app, url } = await server(t);
    const s = await createSession(app.app);
    const ann = await joinAs(app.app, s.id, 'Ann');
    await requestSong(app.app, s.id, ann.key, 'Song A');
    const file = path.join(await tempDataDir(t, 'karaoke-backup-out-'), 'export.json');
    assert.equal((await runScript('download-export', ['--url', url, '--token', TOKEN, '--out', file])).code, 0);
    await requestSong(app.app, s.id, ann.key, 'Song B');
    const other = await createSession(app.app, 'After the Backup');

    const restored = await runScript('upload-export', ['--url', url, '--file', file], { ADMIN_TOKEN: TOKEN });
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stdout, /restored 1 session\(s\) from .*: 0 added, 1 updated, 1 removed, 0 unchanged/);
    assert.match(restored.stdout, /kept its previous data as backups\/data-.*-pre-import\.json/);
    assert.deepEqual(await queueOf(app.app, s.id), ['Ann:Song A']);
    assert.equal(app.store.get(other.id), undefined);
  });

  it('restore refuses an invalid file before sending anything', async (t) => {
    const { app, url } = await server(t);
    await createSession(app.app);
    const dir = await tempDataDir(t, 'karaoke-backup-out-');
    const before = await durableText(app.dataDir);
    const cases: [string, RegExp][] = [
      ['{"version":1,"sessions":{"AB', /not valid JSON/],
      ['{"hello":"world"}', /schema "version"/],
      ['', /is empty/],
    ];
    for (const [text, message] of cases) {
      const file = path.join(dir, 'bad.json');
      await fs.writeFile(file, text);
      const res = await runScript('upload-export', ['--url', url, '--token', TOKEN, '--file', file]);
      assert.equal(res.code, 1, text);
      assert.match(res.stderr, message);
      assert.match(res.stderr, /Nothing was sent/);
    }
    const missing = await runScript('upload-export', ['--url', url, '--token', TOKEN, '--file', path.join(dir, 'nope.json')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read/);
    // Nothing reached the server: no import, so no pre-import backup either.
    assert.equal(await durableText(app.dataDir), before);
    assert.deepEqual(await listBackups(app.dataDir), []);
  });
});
