// Budgets a bar shares fairly: joins per device, per session and per address; song requests per
// guest key; walk-ins per host key. Every limiter is the real one, on the app's real routes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import request from 'supertest';
import { bearer, buildApp, createSession, joinAs, type TestApp } from './support/app.js';

type Res = { status: number; headers: Record<string, string>; body: { error?: { code: string } } };

const join = (app: TestApp['app'], sessionId: string, name: string, device?: string): Promise<Res> => {
  const req = request(app).post(`/api/sessions/${sessionId}/singers`).send({ name });
  return (device === undefined ? req : req.set('X-Device-Id', device)) as unknown as Promise<Res>;
};

const device = (n: number) => `phone-${String(n).padStart(4, '0')}-abcdefghij`;

function assertLimited(res: Res, what: string): void {
  assert.equal(res.status, 429, `${what}: status`);
  assert.equal(res.body.error?.code, 'rate_limited', `${what}: code`);
  assert.ok(Number(res.headers['retry-after']) > 0, `${what}: Retry-After is set`);
}

describe('join budgets', () => {
  it('one phone hammering the join form is stopped at its own budget; the bar behind the same address keeps joining', async (t) => {
    // The defaults, as deployed: 5 joins per device, 120 per session, 300 per address a minute.
    const { app } = await buildApp(t, { config: { rateLimits: { enabled: true } } });
    const s = await createSession(app);
    const junk: Res[] = [];
    for (let i = 0; i < 125; i += 1) junk.push(await join(app, s.id, `Junk ${i}`, device(0)));
    assert.equal(junk.filter((r) => r.status === 201).length, 5, 'the phone gets its 5 joins');
    assertLimited(junk[5]!, 'the 6th join from the phone');
    assert.ok(junk.slice(5).every((r) => r.status === 429));

    // 40 real guests, each on their own phone, all behind the bar's one address.
    for (let i = 1; i <= 40; i += 1) {
      const res = await join(app, s.id, `Guest ${i}`, device(i));
      assert.equal(res.status, 201, `guest ${i} joins`);
    }
  });

  it('joins without a device id (a script, not the page) share one small budget per address', async (t) => {
    const { app } = await buildApp(t, { config: { rateLimits: { enabled: true, joinPerDevicePerMinute: 3 } } });
    const s = await createSession(app);
    for (let i = 0; i < 3; i += 1) assert.equal((await join(app, s.id, `Bot ${i}`)).status, 201);
    assertLimited(await join(app, s.id, 'Bot 3'), 'the 4th join without a device id');
    assertLimited(await join(app, s.id, 'Bot 4', 'short'), 'a malformed device id counts as none');
    assert.equal((await join(app, s.id, 'Ann', device(1))).status, 201, 'a phone with an id is still let in');
  });

  it('counts joins per session: one session full for the minute leaves the others open', async (t) => {
    const { app } = await buildApp(t, { config: { rateLimits: { enabled: true, joinPerSessionPerMinute: 3 } } });
    const busy = await createSession(app, 'Busy');
    const other = await createSession(app, 'Other');
    for (let i = 0; i < 3; i += 1) assert.equal((await join(app, busy.id, `G${i}`, device(i))).status, 201);
    assertLimited(await join(app, busy.id, 'G3', device(3)), 'the 4th join of the session');
    assert.equal((await join(app, other.id, 'G4', device(4))).status, 201);
  });

  it('the per-address ceiling holds across sessions, and its setting moves it', async (t) => {
    const { app } = await buildApp(t, { config: { rateLimits: { enabled: true, joinPerMinute: 4 } } });
    const a = await createSession(app, 'A');
    const b = await createSession(app, 'B');
    for (let i = 0; i < 4; i += 1) assert.equal((await join(app, i % 2 ? a.id : b.id, `G${i}`, device(i))).status, 201);
    assertLimited(await join(app, a.id, 'G4', device(4)), 'the address past RATE_LIMIT_JOIN_PER_MINUTE');
  });
});

describe('request budgets', () => {
  const walkIn = (app: TestApp['app'], s: { id: string; hostKey: string }, i: number) =>
    request(app).post(`/api/sessions/${s.id}/requests`).set(bearer(s.hostKey)).send({ title: `Walk-in song ${i}`, singerName: `Walk-in ${i}` }) as unknown as Promise<Res>;

  it("the host's 11th walk-in in a minute is taken: walk-ins are not on the guests' budget", async (t) => {
    const { app } = await buildApp(t, { config: { rateLimits: { enabled: true } } });
    const s = await createSession(app);
    for (let i = 0; i < 15; i += 1) assert.equal((await walkIn(app, s, i)).status, 201, `walk-in ${i + 1}`);
  });

  it('walk-ins have a budget of their own per host key, and a guest over theirs does not touch it', async (t) => {
    const { app } = await buildApp(t, { config: { rateLimits: { enabled: true, requestPerMinute: 2, walkInPerMinute: 3 } } });
    const s = await createSession(app);
    await request(app).patch(`/api/sessions/${s.id}`).set(bearer(s.hostKey)).send({ maxQueuedPerSinger: 20 }).expect(200);
    const ann = await joinAs(app, s.id, 'Ann');
    const ask = (title: string) => request(app).post(`/api/sessions/${s.id}/requests`).set(bearer(ann.key)).send({ title }) as unknown as Promise<Res>;
    assert.equal((await ask('One')).status, 201);
    assert.equal((await ask('Two')).status, 201);
    assertLimited(await ask('Three'), "the guest's 3rd request");

    for (let i = 0; i < 3; i += 1) assert.equal((await walkIn(app, s, i)).status, 201, `walk-in ${i + 1}`);
    assertLimited(await walkIn(app, s, 3), 'the 4th walk-in past RATE_LIMIT_WALK_IN_PER_MINUTE');
    // The host of another session has a budget of their own.
    const other = await createSession(app, 'Other');
    assert.equal((await walkIn(app, other, 9)).status, 201);
  });
});
