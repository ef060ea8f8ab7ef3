// "One notification per event, never repeated for the same song", across restarts and instances:
// what was sent is part of the durable state. The server runs as its own process (as in
// push.test.ts: it trusts the test's push service through NODE_EXTRA_CA_CERTS, which Node reads
// only at start), restarted on the same DATA_DIR, or on the same database under `npm run test:pg`.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { tempDataDir } from './support/app.js';
import { freshDatabase, onPostgres } from './support/pg.js';
import { callServer, readDataFile, startServer, type RunningServer } from './support/processes.js';
import { browserSubscription, decryptPayload, startPushService, type BrowserSubscription, type PushService, type Received } from './support/push-service.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Phone {
  singerId: string;
  key: string;
  requestId: string;
  sub: BrowserSubscription;
  path: string;
}

interface World {
  service: PushService;
  dataDir: string;
  id: string;
  hostKey: string;
  /** A server on this world's data: its DATA_DIR, and its database on PostgreSQL. */
  start(t: TestContext): Promise<RunningServer>;
  guest(server: RunningServer, name: string, title: string, endpointPath?: string): Promise<Phone>;
  /** The titles of the notifications a phone received, decrypted, in order. */
  titles(phone: Phone): string[];
  /** Resolves with the first push a phone received about a request (its Topic). */
  toldAbout(phone: Phone, requestId: string): Promise<Received>;
}

async function world(t: TestContext, first: (w: Omit<World, 'id' | 'hostKey'>) => Promise<RunningServer>): Promise<World & { server: RunningServer }> {
  const dataDir = await tempDataDir(t, 'karaoke-push-restart-');
  const service = await startPushService(t, dataDir);
  const database: Record<string, string> = onPostgres ? { DATABASE_URL: await freshDatabase(t) } : {};
  const env = { VAPID_SUBJECT: 'mailto:karaoke-tests@example.org', PUSH_ALLOW_LOCAL_ENDPOINTS: '1', NODE_EXTRA_CA_CERTS: service.certFile, ...database };
  // Each instance has a DATA_DIR of its own on PostgreSQL (the VAPID keys are in the database); the JSON store's is the one folder.
  const start = async (tc: TestContext) => startServer(tc, onPostgres ? await tempDataDir(tc) : dataDir, env);
  const titles = (phone: Phone) =>
    service.received.filter((r) => r.path === phone.path).map((r) => JSON.parse(decryptPayload(r.body, phone.sub)).title as string);
  const toldAbout = async (phone: Phone, requestId: string) => {
    for (let count = 1; ; count += 1) {
      const about = (await service.waitFor(phone.path, count)).find((r) => r.headers.topic === requestId);
      if (about) return about;
    }
  };
  let id = '';
  const guest: World['guest'] = async (server, name, title, endpointPath) => {
    const joined = await callServer(server, 'POST', `/api/sessions/${id}/singers`, { name });
    const key: string = joined.guestKey;
    const singerId: string = joined.singer.id;
    const added = await callServer(server, 'POST', `/api/sessions/${id}/requests`, { title }, key);
    const path = endpointPath ?? `/ok/${name.toLowerCase()}`;
    const sub = browserSubscription(`${service.origin}${path}`);
    if (endpointPath !== undefined) await callServer(server, 'PUT', `/api/sessions/${id}/singers/${singerId}/push`, sub.json, key);
    return { singerId, key, requestId: added.request.id, sub, path };
  };
  const base = { service, dataDir, start, guest, titles, toldAbout };
  const server = await first(base);
  const created = await callServer(server, 'POST', '/api/sessions', { name: 'Push night' });
  id = created.session.id;
  return { ...base, server, id, hostKey: created.hostKey };
}

const NEXT = "You're up after this song";
const ON = "You're on! 🎤";

describe('push notifications are told once, across restarts and instances', () => {
  it('a song that rang before a restart does not ring again after it (moved away from first place and back, its next undone); a new song still rings', async (t) => {
    const w = await world(t, (base) => base.start(t));
    let server = w.server;
    const host = (method: string, route: string, body: unknown = {}) => callServer(server, method, `/api/sessions/${w.id}${route}`, body, w.hostKey);
    const restart = async (signal: NodeJS.Signals) => {
      await server.stop(signal);
      server = await w.start(t);
    };

    await w.guest(server, 'Ana', 'Dancing Queen');
    const ben = await w.guest(server, 'Ben', 'Valerie', '/ok/ben');
    const cat = await w.guest(server, 'Cat', 'Jolene', '/ok/cat');
    await host('POST', '/next'); // Ana on stage, Ben first
    await w.service.waitFor(ben.path, 1);

    // Killed: on the JSON store what was told may be in the journal only, and comes back from it.
    await restart('SIGKILL');
    await host('PATCH', `/requests/${cat.requestId}`, { position: 1 }); // Cat first: a new event, it rings
    await w.service.waitFor(cat.path, 1);
    await host('PATCH', `/requests/${ben.requestId}`, { position: 1 }); // Ben first again: told already
    await host('POST', '/next'); // Ben on stage; Cat first again: told already
    await w.service.waitFor(ben.path, 2);
    await host('POST', '/next'); // Cat on stage, the queue empty
    await w.service.waitFor(cat.path, 2);
    assert.deepEqual(w.titles(ben), [NEXT, ON]);

    // What was told is kept with the singer, never in the public state.
    const state = await (await fetch(`${server.url}/api/sessions/${w.id}`)).text();
    assert.doesNotMatch(state, /"told"|:next|:on-stage/);
    if (!onPostgres) {
      const stored = (await readDataFile(w.dataDir)).sessions[w.id]!;
      assert.deepEqual(stored.singers.find((s) => s.id === cat.singerId)?.told, [`${cat.requestId}:next`, `${cat.requestId}:on-stage`]);
    }

    // Stopped: data.json holds it. The host undoes the next: Ben is back on stage, Cat back first.
    await restart('SIGTERM');
    const undone = await host('POST', '/undo');
    assert.equal(undone.nowSinging.id, ben.requestId);
    assert.equal(undone.queue[0].id, cat.requestId);

    // A new song of a singer told before is a new event: Ben's second song comes up after Cat's.
    const second = await callServer(server, 'POST', `/api/sessions/${w.id}/requests`, { title: 'Back to Black' }, ben.key);
    await host('POST', '/next'); // Cat on stage (told already), Ben's new song first
    const push = await w.toldAbout(ben, second.request.id);
    assert.match(JSON.parse(decryptPayload(push.body, ben.sub)).body, /Back to Black/);
    // Anything sent twice was sent before that last push, and would have arrived by now.
    await pause(500);
    assert.deepEqual(w.titles(ben), [NEXT, ON, NEXT], 'Ben: his first song was told "next" and "on stage" once each');
    assert.deepEqual(w.titles(cat), [NEXT, ON], 'Cat: her song was told "next" and "on stage" once each');
  });

  it('with two instances on one database, a song one instance told does not ring when the other changes the queue', { skip: !onPostgres }, async (t) => {
    const w = await world(t, (base) => base.start(t));
    const a = w.server;
    const b = await w.start(t);
    const on = (server: RunningServer, method: string, route: string, body: unknown = {}) => callServer(server, method, `/api/sessions/${w.id}${route}`, body, w.hostKey);

    await w.guest(a, 'Ana', 'Dancing Queen');
    const ben = await w.guest(a, 'Ben', 'Valerie', '/ok/ben');
    const cat = await w.guest(a, 'Cat', 'Jolene', '/ok/cat');
    await on(a, 'POST', '/next'); // through A: Ana on stage, Ben first
    await w.service.waitFor(ben.path, 1);
    // Each change through the instance that did not send the first ring. Sent at once, it may reach
    // B before B has heard of A's change: B's store refuses it and the route runs again on A's state.
    await on(b, 'PATCH', `/requests/${cat.requestId}`, { position: 1 }); // Cat first: it rings
    await w.service.waitFor(cat.path, 1);
    await on(b, 'PATCH', `/requests/${ben.requestId}`, { position: 1 }); // Ben first again, told by A
    await on(a, 'POST', '/next'); // Ben on stage; Cat first again, told by B
    await w.service.waitFor(ben.path, 2);
    await on(b, 'POST', '/next'); // Cat on stage
    await w.service.waitFor(cat.path, 2);
    await on(b, 'POST', '/undo'); // Ben back on stage (told by A), Cat first again

    // A new song: it rings.
    const dan = await w.guest(b, 'Dan', 'Rehab', '/ok/dan');
    await on(a, 'POST', '/next'); // Cat on stage again (told by B), Dan first
    await w.service.waitFor(dan.path, 1);
    await pause(500);
    assert.deepEqual(w.titles(ben), [NEXT, ON]);
    assert.deepEqual(w.titles(cat), [NEXT, ON]);
    assert.deepEqual(w.titles(dan), [NEXT]);
  });

  it('changes made at once through two instances, one run again after a conflict, ring each song once', { skip: !onPostgres }, async (t) => {
    const w = await world(t, (base) => base.start(t));
    const instances = [w.server, await w.start(t)] as const;
    const phones: Phone[] = [];
    for (const name of ['Ben', 'Cat', 'Dan', 'Eve', 'Fay']) phones.push(await w.guest(w.server, name, `${name}'s song`, `/ok/${name.toLowerCase()}`));
    for (let round = 0; round < phones.length; round += 1) {
      // The host's next through one instance, a setting through the other, at the same moment:
      // whichever the database takes second conflicts and runs again on the first one's state.
      const [next, other] = round % 2 === 0 ? instances : [instances[1], instances[0]];
      await Promise.all([
        callServer(next, 'POST', `/api/sessions/${w.id}/next`, {}, w.hostKey),
        callServer(other, 'PATCH', `/api/sessions/${w.id}`, { name: `Round ${round}` }, w.hostKey),
      ]);
    }
    await Promise.all(phones.map((p, i) => w.service.waitFor(p.path, i === 0 ? 1 : 2)));
    await pause(500);
    // Sorted: the rounds follow one another faster than pushes arrive, and two instances send them.
    assert.deepEqual(phones.map((p) => w.titles(p).sort()), [[ON], [NEXT, ON], [NEXT, ON], [NEXT, ON], [NEXT, ON]].map((l) => l.sort()));
  });
});
