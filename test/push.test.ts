// Web Push end to end, without the internet: the real server as its own process, a push service of
// the test's own on 127.0.0.1 whose certificate the server trusts through NODE_EXTRA_CA_CERTS (never
// by turning certificate checks off), and the browser's side of each subscription made here.
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { tempDataDir } from './support/app.js';
import { callServer, readDataFile, startServer, type RunningServer } from './support/processes.js';
import { browserSubscription, decryptPayload, startPushService, verifyVapid, type BrowserSubscription, type PushService } from './support/push-service.js';

const SUBJECT = 'mailto:karaoke-tests@example.org';

interface World {
  server: RunningServer;
  service: PushService;
  dataDir: string;
  id: string;
  hostKey: string;
  /** A guest who joined, asked for `title`, and (with `endpointPath`) subscribed this phone. */
  guest(name: string, title: string, endpointPath?: string): Promise<{ singerId: string; key: string; requestId: string; sub?: BrowserSubscription }>;
}

async function world(t: TestContext, { trustService = true } = {}): Promise<World> {
  const dataDir = await tempDataDir(t, 'karaoke-push-');
  const service = await startPushService(t, dataDir);
  const server = await startServer(t, dataDir, {
    VAPID_SUBJECT: SUBJECT,
    PUSH_ALLOW_LOCAL_ENDPOINTS: '1',
    ...(trustService ? { NODE_EXTRA_CA_CERTS: service.certFile } : {}),
  });
  assert.match(server.stdout(), /PUSH_ALLOW_LOCAL_ENDPOINTS=1: push endpoints on loopback addresses are accepted/);
  const created = await callServer(server, 'POST', '/api/sessions', { name: 'Push night' });
  const id: string = created.session.id;
  const hostKey: string = created.hostKey;
  const guest: World['guest'] = async (name, title, endpointPath) => {
    const joined = await callServer(server, 'POST', `/api/sessions/${id}/singers`, { name });
    const key: string = joined.guestKey;
    const singerId: string = joined.singer.id;
    const added = await callServer(server, 'POST', `/api/sessions/${id}/requests`, { title }, key);
    if (!endpointPath) return { singerId, key, requestId: added.request.id };
    const sub = browserSubscription(`${service.origin}${endpointPath}`);
    await callServer(server, 'PUT', `/api/sessions/${id}/singers/${singerId}/push`, sub.json, key);
    return { singerId, key, requestId: added.request.id, sub };
  };
  return { server, service, dataDir, id, hostKey, guest };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Web Push against a push service of our own', () => {
  it('a subscribed guest is told once when their song is next and once when it goes on stage, signed with VAPID and encrypted for their phone', async (t) => {
    const w = await world(t);
    const { publicKey } = await callServer(w.server, 'GET', '/api/push/key');
    assert.match(publicKey, /^[A-Za-z0-9_-]{87}$/);

    const ana = await w.guest('Ana', 'Dancing Queen');
    const ben = await w.guest('Ben', 'Valerie', '/ok/ben');
    const cat = await w.guest('Cat', 'Jolene');
    // Nobody on stage yet: Ana is first, but nobody is singing, so Ben is told nothing yet.
    await pause(300);
    assert.equal(w.service.received.length, 0);
    await callServer(w.server, 'POST', `/api/sessions/${w.id}/next`, {}, w.hostKey); // Ana on stage, Ben first
    const [next] = await w.service.waitFor('/ok/ben', 1);
    const auth = verifyVapid(next!.headers.authorization);
    assert.equal(auth.key, publicKey);
    assert.equal(auth.claims.aud, w.service.origin);
    assert.equal(auth.claims.sub, SUBJECT);
    const nowSeconds = Date.now() / 1000;
    assert.ok(auth.claims.exp > nowSeconds && auth.claims.exp <= nowSeconds + 24 * 3600, `exp ${auth.claims.exp} is not within 24 h`);
    assert.equal(next!.headers['content-encoding'], 'aes128gcm');
    assert.ok(Number(next!.headers.ttl) > 0);
    assert.equal(next!.headers.urgency, 'high');
    const message = JSON.parse(decryptPayload(next!.body, ben.sub!));
    assert.equal(message.title, "You're up after this song");
    assert.match(message.body, /Valerie/);
    assert.equal(message.url, `${new URL(w.server.url).origin}/s/${w.id}`);
    assert.equal(message.tag, ben.requestId);

    // The host moves Cat ahead and Ben back to first: Ben's song already rang, it does not ring again.
    await callServer(w.server, 'PATCH', `/api/sessions/${w.id}/requests/${cat.requestId}`, { position: 1 }, w.hostKey);
    await callServer(w.server, 'PATCH', `/api/sessions/${w.id}/requests/${ben.requestId}`, { position: 1 }, w.hostKey);
    await callServer(w.server, 'POST', `/api/sessions/${w.id}/next`, {}, w.hostKey); // Ben on stage
    const both = await w.service.waitFor('/ok/ben', 2);
    const onStage = JSON.parse(decryptPayload(both[1]!.body, ben.sub!));
    assert.equal(onStage.title, "You're on! 🎤");
    await pause(1000);
    assert.equal(w.service.received.filter((r) => r.path === '/ok/ben').length, 2, 'nothing is sent twice for the same song');
    assert.ok(ana.singerId);

    // The subscription is kept with the singer, never shown publicly and never logged.
    const state = await (await fetch(`${w.server.url}/api/sessions/${w.id}`)).text();
    assert.doesNotMatch(state, /ok\/ben|p256dh|"push"/);
    assert.ok(!w.server.stdout().includes('/ok/ben'), 'the endpoint is not in the log');
    const stored = (await readDataFile(w.dataDir)).sessions[w.id]!;
    assert.equal(stored.singers.find((s) => s.id === ben.singerId)?.push?.[0]?.endpoint, `${w.service.origin}/ok/ben`);
  });

  it('a guest whose song the host removed or skipped is told; one who cancelled their own is not', async (t) => {
    const w = await world(t);
    const ana = await w.guest('Ana', 'Dancing Queen', '/ok/ana');
    const ben = await w.guest('Ben', 'Valerie', '/ok/ben');
    await callServer(w.server, 'DELETE', `/api/sessions/${w.id}/requests/${ben.requestId}`, undefined, w.hostKey);
    const [removed] = await w.service.waitFor('/ok/ben', 1);
    assert.equal(JSON.parse(decryptPayload(removed!.body, ben.sub!)).title, 'Your song was taken off the queue');

    await callServer(w.server, 'POST', `/api/sessions/${w.id}/next`, {}, w.hostKey); // Ana on stage
    await callServer(w.server, 'POST', `/api/sessions/${w.id}/next`, { outcome: 'skipped' }, w.hostKey);
    const ana2 = await w.service.waitFor('/ok/ana', 2);
    assert.deepEqual(ana2.map((r) => JSON.parse(decryptPayload(r.body, ana.sub!)).title), ["You're on! 🎤", 'Your song was skipped']);

    const cat = await w.guest('Cat', 'Jolene', '/ok/cat');
    await callServer(w.server, 'DELETE', `/api/sessions/${w.id}/requests/${cat.requestId}`, undefined, cat.key);
    await pause(800);
    assert.equal(w.service.received.filter((r) => r.path === '/ok/cat').length, 0);
  });

  it('a push service answering 410 has the subscription removed; a retried 503 still arrives', async (t) => {
    const w = await world(t);
    await w.guest('Ana', 'Dancing Queen');
    const gone = await w.guest('Ben', 'Valerie', '/gone/ben');
    await callServer(w.server, 'POST', `/api/sessions/${w.id}/next`, {}, w.hostKey);
    await w.service.waitFor('/gone/ben', 1);
    for (let i = 0; ; i += 1) {
      const singer = (await readDataFile(w.dataDir)).sessions[w.id]!.singers.find((s) => s.id === gone.singerId)!;
      if (singer.push === undefined) break;
      assert.ok(i < 50, 'the dead subscription was not removed');
      await pause(100);
    }
    assert.equal(w.service.received.filter((r) => r.path === '/gone/ben').length, 1, 'a 410 is not retried');

    const flaky = await w.guest('Cat', 'Jolene', '/flaky/cat');
    await callServer(w.server, 'POST', `/api/sessions/${w.id}/next`, {}, w.hostKey); // Ben on stage (no push), Cat next
    const tries = await w.service.waitFor('/flaky/cat', 2);
    assert.equal(JSON.parse(decryptPayload(tries[1]!.body, flaky.sub!)).title, "You're up after this song");
  });

  it('a push service that never answers holds back neither the host nor anyone else', async (t) => {
    const w = await world(t);
    await w.guest('Ana', 'Dancing Queen', '/hang/ana');
    await w.guest('Ben', 'Valerie', '/ok/ben');
    const started = Date.now();
    await callServer(w.server, 'POST', `/api/sessions/${w.id}/next`, {}, w.hostKey); // Ana on stage (hangs), Ben next
    assert.ok(Date.now() - started < 1000, 'the host waited for a push');
    const [ben] = await w.service.waitFor('/ok/ben', 1, 3000);
    assert.ok(ben!.at - started < 3000, 'Ben waited for Ana\'s push service');
    await w.service.waitFor('/hang/ana', 1);
    // Nor a shutdown: the hanging connection is ended, not waited for.
    const stopping = Date.now();
    const exit = await w.server.stop('SIGTERM');
    assert.equal(exit.code, 0, w.server.stderr());
    assert.ok(Date.now() - stopping < 3000, `the shutdown took ${Date.now() - stopping} ms`);
  });

  it('the VAPID keys are made at the first start, kept under DATA_DIR, and the same after a restart', async (t) => {
    const w = await world(t);
    const first = await callServer(w.server, 'GET', '/api/push/key');
    const file = await stat(path.join(w.dataDir, 'vapid-keys.json'));
    assert.equal(file.mode & 0o777, 0o600);
    await w.server.stop('SIGTERM');
    const again = await startServer(t, w.dataDir, { VAPID_SUBJECT: SUBJECT, NODE_EXTRA_CA_CERTS: w.service.certFile });
    assert.deepEqual(await callServer(again, 'GET', '/api/push/key'), first);
  });

  it('certificate checks stay on: a push service whose certificate the server does not trust gets nothing', async (t) => {
    const w = await world(t, { trustService: false });
    await w.guest('Ana', 'Dancing Queen');
    await w.guest('Ben', 'Valerie', '/ok/ben');
    await callServer(w.server, 'POST', `/api/sessions/${w.id}/next`, {}, w.hostKey);
    for (let i = 0; !w.server.stdout().includes('push not delivered'); i += 1) {
      assert.ok(i < 100, 'the failed send was not logged');
      await pause(100);
    }
    assert.equal(w.service.received.length, 0);
    assert.match(w.server.stdout(), /"attempt":3/);
  });
});
