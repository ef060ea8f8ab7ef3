import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import request from 'supertest';
import type { StoredSession, StoredSinger } from '../server/model/session.js';
import { authenticate, hashKey, newKey, singerByKeyHash } from '../server/sessions/auth.js';
import { createSession as newSession } from '../server/sessions/queue.js';
import { bearer, buildApp, createSession, joinAs, requestSong } from './support/app.js';

const AT = '2026-12-01T20:00:00.000Z';

/** A session with `count` singers as plain data, and the keys of the first and the last. */
function crowded(count: number): { session: StoredSession; first: string; last: string } {
  const keys = Array.from({ length: count }, () => newKey());
  const singers: StoredSinger[] = keys.map((key, i) => ({ id: `singer${String(i).padStart(6, '0')}`, name: `Guest ${i + 1}`, keyHash: hashKey(key), createdAt: AT }));
  const session = { ...newSession({ id: 'KKKKKK', name: 'Crowded', hostKeyHash: hashKey(newKey()), origin: 'http://localhost', now: new Date(AT) }), singers };
  return { session, first: keys[0]!, last: keys.at(-1)! };
}

describe('a guest key is found by its hash in an index, not by a scan of the singers', () => {
  it('1,000 wrong keys against 30,000 singers cost what they cost against one (a scan took 15 ms each)', () => {
    const big = crowded(30_000);
    const small = crowded(1);
    const wrong = Array.from({ length: 1000 }, () => newKey());
    const time = (session: StoredSession) => {
      assert.throws(() => authenticate(session, wrong[0]), { code: 'unauthorized' }); // builds the index once
      const start = performance.now();
      for (const key of wrong) assert.throws(() => authenticate(session, key), { code: 'unauthorized' });
      return performance.now() - start;
    };
    const smallMs = time(small.session);
    const bigMs = time(big.session);
    // A scan is 30,000 comparisons per key: about 15 s for these 1,000. Generous for a busy machine.
    assert.ok(bigMs < 250 && bigMs < smallMs * 5 + 50, `1,000 wrong keys took ${bigMs.toFixed(1)} ms on 30,000 singers, ${smallMs.toFixed(1)} ms on one`);
    assert.equal(authenticate(big.session, big.first).role, 'guest');
    assert.deepEqual(authenticate(big.session, big.last), { role: 'guest', singer: big.session.singers.at(-1) });
  });

  it('each new singers array gets its own index: a join, a change to a singer and a removal are seen at once', () => {
    const { session, first } = crowded(3);
    const ann = session.singers[0]!;
    assert.equal(singerByKeyHash(session.singers, ann.keyHash!), ann);
    const key = newKey();
    const joined = [...session.singers, { id: 'singer-new', name: 'Dana', keyHash: hashKey(key), createdAt: AT }];
    assert.equal(singerByKeyHash(joined, hashKey(key))?.name, 'Dana');
    assert.equal(singerByKeyHash(session.singers, hashKey(key)), undefined, 'the old array does not know the new singer');
    const held = joined.map((s) => (s.id === ann.id ? { ...s, onHold: true } : s));
    assert.equal(singerByKeyHash(held, hashKey(first))?.onHold, true, 'the singer as the new array has it');
    const removed = held.filter((s) => s.id !== ann.id);
    assert.equal(singerByKeyHash(removed, hashKey(first)), undefined);
    assert.equal(singerByKeyHash(joined, hashKey('not a key')), undefined);
  });

  it('keys keep working across joins, holds, walk-ins, undo, a new night and a restart', async (t) => {
    const built = await buildApp(t);
    const s = await createSession(built.app);
    const ann = await joinAs(built.app, s.id, 'Ann');
    await requestSong(built.app, s.id, ann.key, 'Africa');
    const ben = await joinAs(built.app, s.id, 'Ben');
    await requestSong(built.app, s.id, ben.key, 'Zombie');
    await requestSong(built.app, s.id, ann.key, 'Toxic');

    // A hold changes Ann's stored singer: her key finds the changed one and may take her back.
    await request(built.app).post(`/api/sessions/${s.id}/singers/${ann.id}/hold`).set(bearer(ann.key)).expect(200);
    await request(built.app).delete(`/api/sessions/${s.id}/singers/${ann.id}/hold`).set(bearer(ann.key)).expect(200);
    // Another guest's key is someone else: 403, not 401.
    const foreign = await request(built.app).post(`/api/sessions/${s.id}/singers/${ann.id}/hold`).set(bearer(ben.key)).expect(403);
    assert.equal(foreign.body.error.code, 'forbidden');

    // A walk-in adds a singer without a key and its undo takes it away; keys are untouched.
    await request(built.app).post(`/api/sessions/${s.id}/requests`).set(bearer(s.hostKey)).send({ title: 'Hello', singerName: 'Walk In' }).expect(201);
    await request(built.app).post(`/api/sessions/${s.id}/undo`).set(bearer(s.hostKey)).expect(200);
    await requestSong(built.app, s.id, ben.key, 'Respect');
    const wrong = await request(built.app).post(`/api/sessions/${s.id}/requests`).set(bearer(newKey())).send({ title: 'No' }).expect(401);
    assert.equal(wrong.body.error.code, 'unauthorized');

    // A restart loads new arrays from disk: the index is built from them.
    await built.close();
    const again = await buildApp(t, { dataDir: built.dataDir });
    await requestSong(again.app, s.id, ann.key, 'Valerie');

    // A new night: last night's keys are told so, a rejoin's key works at once.
    await request(again.app).post(`/api/sessions/${s.id}/nights`).set(bearer(s.hostKey)).expect(200);
    const old = await request(again.app).post(`/api/sessions/${s.id}/requests`).set(bearer(ann.key)).send({ title: 'Again' }).expect(401);
    assert.equal(old.body.error.code, 'new_night');
    const back = await joinAs(again.app, s.id, 'Ann');
    await requestSong(again.app, s.id, back.key, 'Again');
    const still = await request(again.app).post(`/api/sessions/${s.id}/requests`).set(bearer(ben.key)).send({ title: 'Mine' }).expect(401);
    assert.equal(still.body.error.code, 'new_night');
  });
});
