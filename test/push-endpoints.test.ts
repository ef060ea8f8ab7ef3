// A push endpoint is a URL a guest chose and the server POSTs to: what is refused, and that a send
// connects to the address that was checked, whatever the name resolves to by then.
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import request from 'supertest';
import webpush from 'web-push';
import { HttpError } from '../server/errors.js';
import { checkEndpoint, isAllowedAddress, pinnedAgent } from '../server/push/endpoints.js';
import { PushSender } from '../server/push/sender.js';
import * as queue from '../server/sessions/queue.js';
import { buildApp, tempDataDir } from './support/app.js';
import { browserSubscription, startPushService } from './support/push-service.js';

const refusedAddresses = [
  '127.0.0.1', '127.1.2.3', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '169.254.0.1', '100.64.0.1',
  '100.100.100.200', '0.0.0.0', '224.0.0.251', '255.255.255.255', '192.0.2.1', '198.18.0.1',
  '::1', '::', 'fe80::1', 'fc00::1', 'fd00:ec2::254', 'ff02::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1',
  '::ffff:169.254.169.254', '64:ff9b::a00:1', '2002:a00:1::', '2001:db8::1',
];

describe('push endpoints and subscriptions', () => {
  it('private, loopback, link-local, CGNAT, multicast and metadata addresses are refused, IPv4 and IPv6 alike', () => {
    for (const address of refusedAddresses) assert.equal(isAllowedAddress(address, false), false, address);
    for (const address of ['142.250.74.110', '17.253.144.10', '2a00:1450:4001:82b::200e', '::ffff:142.250.74.110']) {
      assert.equal(isAllowedAddress(address, false), true, address);
    }
    assert.equal(isAllowedAddress('127.0.0.1', true), true, 'PUSH_ALLOW_LOCAL_ENDPOINTS allows loopback');
    assert.equal(isAllowedAddress('::1', true), true);
    assert.equal(isAllowedAddress('10.0.0.1', true), false, 'and nothing else');
    assert.equal(isAllowedAddress('169.254.169.254', true), false);
  });

  const refusal = async (endpoint: string, resolve?: (host: string) => Promise<{ address: string; family: number }[]>) => {
    const err = await checkEndpoint(endpoint, { allowLoopback: false, ...(resolve ? { resolve } : {}) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof HttpError, `${endpoint} was accepted`);
    assert.equal(err.status, 400);
    assert.equal(err.code, 'push_endpoint_refused');
    return err.message;
  };

  it('endpoints are checked on every address their name resolves to, not on the name', async () => {
    assert.match(await refusal('http://fcm.googleapis.com/fcm/send/x'), /https/);
    assert.match(await refusal('https://user:pw@fcm.googleapis.com/x'), /user name/);
    assert.match(await refusal('not a url'), /not a URL/);
    assert.match(await refusal('https://[::ffff:169.254.169.254]/latest'), /public/);
    assert.match(await refusal('https://169.254.169.254/latest/meta-data'), /public/);
    // A public-looking name that points inside, and one that points both outside and inside.
    assert.match(await refusal('https://push.example.com/x', async () => [{ address: '10.1.2.3', family: 4 }]), /public/);
    const mixed = async () => [{ address: '142.250.74.110', family: 4 }, { address: 'fd00::1', family: 6 }];
    assert.match(await refusal('https://push.example.com/x', mixed), /public/);
    assert.match(await refusal('https://nowhere.invalid/x', async () => Promise.reject(new Error('ENOTFOUND'))), /resolve/);
    const ok = await checkEndpoint('https://push.example.com/x', { allowLoopback: false, resolve: async () => [{ address: '142.250.74.110', family: 4 }] });
    assert.equal(ok.address, '142.250.74.110');
  });

  it('a send connects to the address that was checked, whatever DNS answers later (no rebinding)', async (t) => {
    const dir = await tempDataDir(t);
    const service = await startPushService(t, dir);
    // push.invalid never resolves; the pinned agent does not ask DNS, and TLS still checks the name.
    const checked = await checkEndpoint(`https://push.invalid:${service.port}/ok/pinned`, {
      allowLoopback: true,
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    const agent = pinnedAgent(checked);
    t.after(() => agent.destroy());
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpsRequest(checked.url, { method: 'POST', agent, ca: service.cert }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 201);
    assert.equal(service.received[0]?.path, '/ok/pinned');
  });

  async function pushApp(t: Parameters<typeof buildApp>[0], { allowLocalEndpoints = false } = {}) {
    const app = await buildApp(t, {
      config: { push: { publicKey: undefined, privateKey: undefined, subject: 'mailto:tests@example.org', allowLocalEndpoints } },
      vapidKeys: webpush.generateVAPIDKeys(),
    });
    const created = await request(app.app).post('/api/sessions').send({ name: 'Push' }).expect(201);
    const id: string = created.body.session.id;
    const join = async (name: string) => (await request(app.app).post(`/api/sessions/${id}/singers`).send({ name }).expect(201)).body;
    return { app, id, hostKey: created.body.hostKey as string, join };
  }

  it('PUT …/singers/:singerId/push refuses http, private, loopback and metadata endpoints with 400 push_endpoint_refused', async (t) => {
    const { app, id, join } = await pushApp(t);
    const guest = await join('Ana');
    const put = (endpoint: string) =>
      request(app.app)
        .put(`/api/sessions/${id}/singers/${guest.singer.id}/push`)
        .set('Authorization', `Bearer ${guest.guestKey}`)
        .send(browserSubscription(endpoint).json);
    for (const endpoint of [
      'http://fcm.googleapis.com/fcm/send/abc',
      'https://127.0.0.1/push',
      'https://localhost:8443/push',
      'https://10.0.0.1/push',
      'https://192.168.1.1/push',
      'https://169.254.169.254/latest/meta-data/',
      'https://[::1]/push',
      'https://[::ffff:127.0.0.1]/push',
      'https://[fd00:ec2::254]/push',
    ]) {
      const res = await put(endpoint).expect(400);
      assert.equal(res.body.error.code, 'push_endpoint_refused', endpoint);
      assert.equal(res.body.error.field, 'endpoint');
    }
    const stored = app.store.latest(id)!.singers.find((s) => s.id === guest.singer.id)!;
    assert.equal(stored.push, undefined, 'nothing refused is kept');
  });

  it('a subscription takes the singer\'s own key, valid keys, and is never in the public state', async (t) => {
    const { app, id, hostKey, join } = await pushApp(t, { allowLocalEndpoints: true });
    const ana = await join('Ana');
    const ben = await join('Ben');
    const route = `/api/sessions/${id}/singers/${ana.singer.id}/push`;
    const sub = browserSubscription('https://127.0.0.1:9/push/ana');
    assert.equal((await request(app.app).put(route).send(sub.json).expect(401)).body.error.code, 'unauthorized');
    assert.equal((await request(app.app).put(route).set('Authorization', `Bearer ${hostKey}`).send(sub.json).expect(403)).body.error.code, 'forbidden');
    assert.equal((await request(app.app).put(route).set('Authorization', `Bearer ${ben.guestKey}`).send(sub.json).expect(403)).body.error.code, 'forbidden');
    const bad = { ...sub.json, keys: { p256dh: Buffer.alloc(65, 4).toString('base64url'), auth: sub.json.keys.auth } };
    const invalid = await request(app.app).put(route).set('Authorization', `Bearer ${ana.guestKey}`).send(bad).expect(400);
    assert.deepEqual([invalid.body.error.code, invalid.body.error.field], ['invalid_input', 'keys.p256dh']);

    await request(app.app).put(route).set('Authorization', `Bearer ${ana.guestKey}`).send(sub.json).expect(204);
    const version = app.store.latest(id)!.version;
    // The page subscribes again at every load: the same subscription again is no change.
    await request(app.app).put(route).set('Authorization', `Bearer ${ana.guestKey}`).send(sub.json).expect(204);
    assert.equal(app.store.latest(id)!.version, version);
    assert.equal(app.store.latest(id)!.singers[0]!.push?.[0]?.keys.auth, sub.json.keys.auth);

    const state = await request(app.app).get(`/api/sessions/${id}`).expect(200);
    assert.doesNotMatch(state.text, /push\/ana|p256dh|"push"|"singers"/);
    assert.equal(state.body.singerCount, 2);

    // A few phones per singer at most; DELETE forgets them all.
    for (const n of [1, 2, 3, 4]) {
      await request(app.app).put(route).set('Authorization', `Bearer ${ana.guestKey}`).send(browserSubscription(`https://127.0.0.1:9/push/${n}`).json).expect(204);
    }
    assert.deepEqual(app.store.latest(id)!.singers[0]!.push?.map((p) => p.endpoint.slice(-1)), ['2', '3', '4']);
    await request(app.app).delete(route).set('Authorization', `Bearer ${ana.guestKey}`).expect(204);
    assert.equal(app.store.latest(id)!.singers[0]!.push, undefined);
  });

  it('GET /api/push/key gives the application server key; without a VAPID subject it is null and subscribing is 404 push_unavailable', async (t) => {
    const { app } = await pushApp(t);
    const key = await request(app.app).get('/api/push/key').expect(200);
    assert.equal(Buffer.from(key.body.publicKey, 'base64url').length, 65);
    const off = await buildApp(t);
    assert.deepEqual((await request(off.app).get('/api/push/key').expect(200)).body, { publicKey: null });
    const session = await request(off.app).post('/api/sessions').send({ name: 'Off' }).expect(201);
    const id: string = session.body.session.id;
    const guest = (await request(off.app).post(`/api/sessions/${id}/singers`).send({ name: 'Ana' }).expect(201)).body;
    const res = await request(off.app)
      .put(`/api/sessions/${id}/singers/${guest.singer.id}/push`)
      .set('Authorization', `Bearer ${guest.guestKey}`)
      .send(browserSubscription('https://fcm.googleapis.com/fcm/send/x').json)
      .expect(404);
    assert.equal(res.body.error.code, 'push_unavailable');
  });

  it('a send that hangs is cut at its deadline and tried a bounded number of times', async (t) => {
    // Accepts connections and never answers, not even the TLS handshake.
    const sockets: import('node:net').Socket[] = [];
    const silent = createNetServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      for (const s of sockets) s.destroy();
      silent.close();
    });
    const { port } = silent.address() as AddressInfo;
    const logged: string[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void logged.push(line) });
    const sender = new PushSender({
      vapid: { keys: webpush.generateVAPIDKeys(), subject: 'mailto:tests@example.org' },
      policy: { allowLoopback: true },
      publicUrl: undefined,
      log,
      gone: async () => assert.fail('not gone'),
      timeoutMs: 200,
      attempts: 2,
      backoffMs: 10,
    });
    const sub = browserSubscription(`https://127.0.0.1:${port}/hang`);
    const session = {
      ...queue.createSession({ id: 'ABCDEF', name: 'R', hostKeyHash: 'h', origin: 'https://k.example', now: new Date() }),
      singers: [{ id: 's1', name: 'Ana', keyHash: 'k', createdAt: new Date().toISOString(), push: [{ ...sub.json, createdAt: new Date().toISOString() }] }],
    };
    const event = { kind: 'next' as const, singerId: 's1', requestId: 'r1xxxx', title: 'Valerie' };
    const started = Date.now();
    sender.notify(session, [event]);
    await sender.idle();
    assert.ok(Date.now() - started < 1500, `gave up after ${Date.now() - started} ms`);
    assert.equal(sockets.length, 2, 'two attempts');
    assert.ok(logged.some((l) => l.includes('push not delivered') && l.includes('"attempt":2')));
    assert.ok(!logged.some((l) => l.includes('/hang')), 'the endpoint is not logged');
  });
});
