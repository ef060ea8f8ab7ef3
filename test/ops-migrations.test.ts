import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import request from 'supertest';
import { hashKey } from '../server/sessions/auth.js';
import { convertLegacy, LEGACY_TARGET_VERSION, parseLegacy } from '../server/legacy/convert.js';
import { listBackups, migrations, openStore, parseData, SCHEMA_VERSION, UnreadableDataError } from '../server/store/index.js';
import { bearer, buildApp, tempDataDir } from './support/app.js';
import { fixturePath } from './support/ops.js';

const SCHEMA_FIXTURES = fixturePath('schema');
/** The host key of the first session in every schema fixture (fixtures store only its hash). */
const FIXTURE_HOST_KEY = 'IZ4A5utsvc9gVH9cQhUHaKtQoJ42THbB2PIn4Uj_zMs';

describe('schema migrations', () => {
  it('there is one migration step per schema version, and a fixture file of every released version', async () => {
    assert.equal(SCHEMA_VERSION, migrations.length + 1);
    const files = (await fs.readdir(SCHEMA_FIXTURES)).filter((f) => /^v\d+\.json$/.test(f));
    const versions = files.map((f) => Number(f.slice(1, -5))).sort((a, b) => a - b);
    assert.deepEqual(versions, Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
  });

  for (let version = 1; version <= SCHEMA_VERSION; version += 1) {
    it(`a schema v${version} data.json opens and serves its sessions${version < SCHEMA_VERSION ? ', after a backup of the old file' : ''}`, async (t) => {
      const original = await fs.readFile(path.join(SCHEMA_FIXTURES, `v${version}.json`));
      const dataDir = await tempDataDir(t);
      await fs.writeFile(path.join(dataDir, 'data.json'), original);

      const opened = await openStore({ dataDir });
      const backups = await listBackups(dataDir);
      if (version < SCHEMA_VERSION) {
        assert.equal(opened.migratedFrom, version);
        assert.equal(backups.length, 1);
        assert.equal(backups[0]!.reason, `pre-migration-v${version}`);
        assert.deepEqual(await fs.readFile(backups[0]!.file), original);
      } else {
        assert.equal(opened.migratedFrom, null);
        assert.deepEqual(backups, []);
        assert.deepEqual(await fs.readFile(path.join(dataDir, 'data.json')), original, 'a current file is not rewritten at open');
      }
      const ids = Object.keys((JSON.parse(original.toString('utf8')) as { sessions: Record<string, unknown> }).sessions);
      assert.deepEqual([...opened.store.sessions()].map((s) => s.id).sort(), ids.sort());
      await opened.store.close();

      const app = await buildApp(t, { dataDir });
      const first = await request(app.app).get(`/api/sessions/${ids[0]}`).expect(200);
      assert.equal(first.body.name, 'Release Night');
      assert.deepEqual(first.body.queue.map((r: { title: string }) => r.title), ['Persistence Song 4', 'Persistence Song 3']);
      assert.equal(first.body.nowSinging.title, 'Persistence Song 2');
      assert.equal(first.body.history[0].outcome, 'sung');
      await request(app.app).post(`/api/sessions/${ids[0]}/next`).set(bearer(FIXTURE_HOST_KEY)).send({}).expect(200);
    });
  }

  it('a data.json of a newer schema version is refused, naming the file, and left untouched', async (t) => {
    const dataDir = await tempDataDir(t);
    const file = path.join(dataDir, 'data.json');
    const text = JSON.stringify({ version: SCHEMA_VERSION + 1, sessions: {} });
    await fs.writeFile(file, text);
    await assert.rejects(openStore({ dataDir }), (err: Error) => {
      assert.ok(err instanceof UnreadableDataError);
      assert.match(err.message, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} has schema version ${SCHEMA_VERSION + 1}, newer`));
      return true;
    });
    assert.equal(await fs.readFile(file, 'utf8'), text);
  });

  it('the legacy shape converts to schema v1 and passes the same check as data.json at start', async () => {
    const legacy = parseLegacy(JSON.parse(await fs.readFile(fixturePath('legacy-app/data.json'), 'utf8')), 'legacy');
    let n = 0;
    const { data } = convertLegacy(legacy, {
      now: new Date('2024-01-01T00:00:00Z'),
      origin: 'http://karaoke.local:3000',
      takenIds: new Set(),
      newSessionId: () => 'NEW234',
      newItemId: () => `item${String(n++).padStart(4, '0')}`,
    });
    assert.equal(LEGACY_TARGET_VERSION, 1);
    // What the converter writes is a v1 file: the migration steps carry it to the current version.
    const reparsed = parseData(JSON.parse(JSON.stringify({ ...data, version: LEGACY_TARGET_VERSION })), 'converted');
    assert.deepEqual(Object.keys(reparsed.data.sessions).sort(), ['K7MP2Q', 'NEW234', 'WXYZ23']);
    assert.equal(reparsed.data.sessions.K7MP2Q!.hostKeyHash, hashKey('fridayNightHostKey-2023-keep-me'));
  });
});
