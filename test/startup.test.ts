// What an operator sees at start: where the data lives, and a refusal in one plain line when
// starting would lose data (an unmounted DATA_DIR in production, an unwritable one, a bad setting).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rmdir, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { tempDataDir } from './support/app.js';
import { launchServer, requireMountPrivileges, sh, startServer } from './support/processes.js';
import { decodeQr } from './support/qr-decode.js';

/** A refusal: exit code 1 and one line on stderr, no stack trace. */
async function refusal(t: TestContext, dataDir: string, env: Record<string, string>): Promise<string> {
  const server = launchServer(t, dataDir, env);
  const exit = await server.exited;
  assert.equal(exit.code, 1, server.stderr());
  const lines = server.stderr().trim().split('\n');
  assert.equal(lines.length, 1, `one line, got:\n${server.stderr()}`);
  assert.match(lines[0]!, /^karaoke: cannot start: /);
  assert.doesNotMatch(lines[0]!, /\bat .+:\d+:\d+/, 'no stack trace');
  return lines[0]!;
}

const ADMIN_TOKEN = 'Zc8nV3tQ6wK2rL9mH4pX7bJf';

/** /healthz with the details, which need the admin token. */
async function healthDetails(url: string): Promise<{ storage: { persistent: boolean; dataDir: string; warning: string | null } }> {
  const res = await fetch(`${url}/healthz`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
  return (await res.json()) as { storage: { persistent: boolean; dataDir: string; warning: string | null } };
}

/** A small tmpfs: a mounted filesystem other than the root one, like a Fly volume. */
async function mountTmpfs(t: TestContext, size: string): Promise<string> {
  await requireMountPrivileges('mounting a volume stand-in');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'karaoke-volume-'));
  await sh('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  // One hook, unmount then remove: a lazy unmount works while the server still has files open.
  t.after(async () => {
    await sh('umount', ['-l', dir]);
    await rmdir(dir);
  });
  return dir;
}

describe('start-up', () => {
  it('refuses an unmounted DATA_DIR in production, naming the fix', async (t) => {
    const dataDir = await tempDataDir(t);
    const line = await refusal(t, dataDir, { NODE_ENV: 'production' });
    assert.match(line, /not a mounted volume/);
    assert.match(line, /ALLOW_EPHEMERAL_DATA=1/);
  });

  it('starts on an unmounted DATA_DIR in production when ALLOW_EPHEMERAL_DATA=1, and logs where data lives', async (t) => {
    const dataDir = await tempDataDir(t);
    const server = await startServer(t, dataDir, { NODE_ENV: 'production', ALLOW_EPHEMERAL_DATA: '1', ADMIN_TOKEN });
    const health = await healthDetails(server.url);
    assert.equal(health.storage.persistent, false);
    assert.match(server.stdout(), /"persistent":false,"msg":"data lives in [^"]+, on the root filesystem, not a mounted volume"/);
  });

  it('starts in production on a mounted volume and reports it as persistent', async (t) => {
    const volume = await mountTmpfs(t, '16m');
    const server = await startServer(t, volume, { NODE_ENV: 'production', ADMIN_TOKEN });
    const health = await healthDetails(server.url);
    assert.equal(health.storage.persistent, true);
    assert.equal(health.storage.dataDir, volume);
    assert.match(server.stdout(), /"persistent":true,"msg":"data lives in [^"]+, on a mounted volume/);
  });

  it('warns in health and logs when the volume is more than 80 % full', async (t) => {
    const volume = await mountTmpfs(t, '4m');
    await writeFile(path.join(volume, 'filler'), Buffer.alloc(3.6 * 1024 * 1024));
    const server = await startServer(t, volume, { ADMIN_TOKEN });
    const health = await healthDetails(server.url);
    assert.match(String(health.storage.warning), /% full/);
    await server.stop('SIGTERM');
    assert.ok(server.stdout().includes('% full'), 'the warning is in the log');
  });

  it('says in one line when DATA_DIR is not writable', async (t) => {
    const parent = await tempDataDir(t);
    const dataDir = path.join(parent, 'data');
    await mkdir(dataDir);
    execFileSync('chattr', ['+i', dataDir]);
    try {
      const line = await refusal(t, dataDir, {});
      assert.match(line, /is not writable/);
      assert.match(line, /chown/);
    } finally {
      execFileSync('chattr', ['-i', dataDir]);
    }
  });

  it('says in one line that DATA_DIR is on a read-only filesystem, not to chown it', async (t) => {
    await requireMountPrivileges('mounting a read-only volume stand-in');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'karaoke-ro-'));
    await sh('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', dir]);
    t.after(async () => {
      await sh('umount', ['-l', dir]);
      await rmdir(dir);
    });
    for (const dataDir of [dir, path.join(dir, 'data')]) {
      const line = await refusal(t, dataDir, {});
      assert.equal(line, `karaoke: cannot start: DATA_DIR ${dataDir} is on a read-only filesystem; mount the volume read-write ` +
        '(a volume remounted read-only after disk errors needs a check, then a remount or a restart of the machine).');
    }
  });

  it('names every invalid setting in one line', async (t) => {
    const dataDir = await tempDataDir(t);
    const line = await refusal(t, dataDir, { PORT: 'eighty', PUBLIC_URL: 'my-karaoke.fly.dev' });
    assert.match(line, /PORT/);
    assert.match(line, /PUBLIC_URL/);
  });

  it('rebuilds the QR codes with the new address after PUBLIC_URL changes, and only then', async (t) => {
    const dataDir = await tempDataDir(t);
    const qrOf = async (url: string, id: string) => {
      const res = await fetch(`${url}/qr-codes/${id}.png`);
      assert.equal(res.status, 200);
      return decodeQr(Buffer.from(await res.arrayBuffer()));
    };
    const first = await startServer(t, dataDir, { PUBLIC_URL: 'https://karaoke.fly.dev' });
    const created = await fetch(`${first.url}/api/sessions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'Friday Night' }),
    });
    const { session } = (await created.json()) as { session: { id: string } };
    assert.equal(await qrOf(first.url, session.id), `https://karaoke.fly.dev/s/${session.id}`);
    assert.equal((await first.stop('SIGTERM')).code, 0);

    const moved = await startServer(t, dataDir, { PUBLIC_URL: 'https://sing.example.com' });
    assert.match(moved.stdout(), /PUBLIC_URL changed: QR codes will be rebuilt with it/);
    assert.equal(await qrOf(moved.url, session.id), `https://sing.example.com/s/${session.id}`);
    const png = path.join(dataDir, 'qr-codes', `${session.id}.png`);
    const rebuilt = await stat(png);
    assert.equal((await moved.stop('SIGTERM')).code, 0);

    const again = await startServer(t, dataDir, { PUBLIC_URL: 'https://sing.example.com' });
    assert.doesNotMatch(again.stdout(), /PUBLIC_URL changed/);
    assert.equal((await stat(png)).ino, rebuilt.ino, 'the same address keeps the cached PNG');
  });
});
