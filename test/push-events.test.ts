// What a change means to the guests it concerns, read from the state before and after it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../server/config.js';
import type { StoredSession } from '../server/model/session.js';
import { markTold, pushEvents, TOLD_PER_SINGER } from '../server/push/events.js';
import * as queue from '../server/sessions/queue.js';

const at = new Date('2026-05-01T20:00:00Z');
const guest = (id: string) => ({ id, name: id, keyHash: `hash-${id}`, createdAt: at.toISOString() });

function room(...titles: string[]): StoredSession {
  let s = queue.createSession({ id: 'ABCDEF', name: 'Room', hostKeyHash: 'h', origin: 'https://k.example', now: at });
  for (const [i, title] of titles.entries()) {
    const singer = guest(`s${i}`);
    s = queue.addSinger(s, singer, at);
    s = queue.requestSong(s, { role: 'guest', singer }, { title }, { request: `r${i}xxxx`, singer: 'unused' }, at).session;
  }
  return s;
}
const kinds = (events: ReturnType<typeof pushEvents>) => events.map((e) => `${e.kind}:${e.title}`);

describe('push events and VAPID settings', () => {
  it('a song is "next" when it reaches first place while someone sings, and "on stage" when it starts', () => {
    const before = room('A', 'B', 'C');
    // With the stage empty, first place is not "after this song".
    assert.deepEqual(kinds(pushEvents(undefined, before, 'guest')), []);
    const first = queue.advance(before, 'sung', at);
    assert.deepEqual(kinds(pushEvents(before, first, 'host')), ['on-stage:A', 'next:B']);
    const reordered = queue.moveRequest(first, 'r2xxxx', 1, at);
    assert.deepEqual(kinds(pushEvents(first, reordered, 'host')), ['next:C']);
    // A change that leaves first place alone says nothing.
    const renamed = queue.updateSettings(reordered, { name: 'New name' }, at);
    assert.deepEqual(kinds(pushEvents(reordered, renamed, 'host')), []);
  });

  it('the host removing or skipping a song tells its singer; a guest cancelling their own does not', () => {
    const s = queue.advance(room('A', 'B', 'C'), 'sung', at);
    assert.deepEqual(kinds(pushEvents(s, queue.cancelRequest(s, 'r2xxxx', { role: 'host' }, at), 'host')), ['removed:C']);
    const own = queue.cancelRequest(s, 'r2xxxx', { role: 'guest', singer: guest('s2') }, at);
    assert.deepEqual(kinds(pushEvents(s, own, 'guest')), []);
    // Removing the song that was next makes the one behind it next.
    assert.deepEqual(kinds(pushEvents(s, queue.cancelRequest(s, 'r1xxxx', { role: 'host' }, at), 'host')), ['next:C', 'removed:B']);
    assert.deepEqual(kinds(pushEvents(s, queue.advance(s, 'skipped', at), 'host')), ['on-stage:B', 'next:C', 'skipped:A']);
  });

  it('a singer on hold is not told they are next: the first singer not on hold is; back, they are told', () => {
    const host = { role: 'host' } as const;
    const before = queue.setHold(room('A', 'B', 'C'), 's1', true, host, at);
    const first = queue.advance(before, 'sung', at);
    assert.deepEqual(kinds(pushEvents(before, first, 'host')), ['on-stage:A', 'next:C']);
    const back = queue.setHold(first, 's1', false, host, at);
    assert.equal(back.queue[0]?.id, 'r1xxxx');
    assert.deepEqual(kinds(pushEvents(first, back, 'guest')), ['next:B']);
    // On hold while first: the song behind is next now.
    assert.deepEqual(kinds(pushEvents(back, queue.setHold(back, 's1', true, host, at), 'host')), ['next:C']);
  });

  it('a new night archives the queue without telling anyone it was removed', () => {
    const s = queue.advance(room('A', 'B'), 'sung', at);
    assert.deepEqual(pushEvents(s, queue.startNight(s, at).session, 'host'), []);
  });

  it('what was told is marked on the singer in the state committed with the change; an event already marked is dropped', () => {
    const phone = { endpoint: 'https://push.example/1', keys: { p256dh: 'p', auth: 'a' }, createdAt: at.toISOString() };
    const subscribed = (s: StoredSession): StoredSession => ({ ...s, singers: s.singers.map((g) => (g.id === 's0' ? g : { ...g, push: [phone] })) });
    const before = subscribed(room('A', 'B', 'C'));
    const first = queue.advance(before, 'sung', at);
    // s0 (A) has no phone to tell: nothing is sent to it, nothing is marked.
    const told = markTold(first, pushEvents(before, first, 'host'));
    assert.deepEqual(kinds(told.events), ['next:B']);
    assert.deepEqual(told.session.singers.map((g) => g.told), [undefined, ['r1xxxx:next'], undefined]);
    assert.equal(told.session.version, first.version, 'the marks go with the change, not as one of their own');

    // C moved first and B back: C is told, B is not told again.
    const cFirst = queue.moveRequest(told.session, 'r2xxxx', 1, at);
    const c = markTold(cFirst, pushEvents(told.session, cFirst, 'host'));
    const bBack = queue.moveRequest(c.session, 'r1xxxx', 1, at);
    const b = markTold(bBack, pushEvents(c.session, bBack, 'host'));
    assert.deepEqual(kinds(c.events), ['next:C']);
    assert.deepEqual(kinds(b.events), []);
    assert.equal(b.session, bBack, 'nothing new to mark: the same session');

    // The undo of a next: the song back on stage and the one that came up back first were told already.
    const onStage = queue.advance(b.session, 'sung', at);
    const sung = markTold(onStage, pushEvents(b.session, onStage, 'host'));
    // C is first again: told when it was moved there.
    assert.deepEqual(kinds(sung.events), ['on-stage:B']);
    const next = queue.advance(sung.session, 'sung', at);
    const sungC = markTold(next, pushEvents(sung.session, next, 'host'));
    const undone = queue.undo(sungC.session, { role: 'host' }, at);
    assert.equal(undone.nowSinging?.id, 'r1xxxx');
    assert.deepEqual(kinds(pushEvents(sungC.session, undone, 'host')), ['on-stage:B', 'next:C']);
    assert.deepEqual(markTold(undone, pushEvents(sungC.session, undone, 'host')).events, []);
  });

  it('a singer keeps the newest marks only', () => {
    const phone = { endpoint: 'https://push.example/1', keys: { p256dh: 'p', auth: 'a' }, createdAt: at.toISOString() };
    let s: StoredSession = { ...room('A'), singers: room('A').singers.map((g) => ({ ...g, push: [phone] })) };
    for (let i = 0; i < TOLD_PER_SINGER + 5; i += 1) {
      s = markTold(s, [{ kind: 'next', singerId: 's0', requestId: `req${i}`, title: 'A' }]).session;
    }
    const told = s.singers[0]!.told!;
    assert.equal(told.length, TOLD_PER_SINGER);
    assert.equal(told.at(-1), `req${TOLD_PER_SINGER + 4}:next`);
    assert.equal(told[0], 'req5:next');
  });

  it('VAPID settings: a subject Apple accepts, keys together, loopback endpoints only when asked', () => {
    const bad = (env: Record<string, string>) => assert.throws(() => loadConfig(env), ConfigError);
    bad({ VAPID_SUBJECT: 'mailto:me@localhost' });
    bad({ VAPID_SUBJECT: 'https://localhost:3000' });
    bad({ VAPID_SUBJECT: 'karaoke@example.org' });
    bad({ VAPID_PUBLIC_KEY: Buffer.alloc(65, 4).toString('base64url') });
    assert.throws(() => loadConfig({ VAPID_SUBJECT: 'mailto:me@localhost' }), /403 BadJwtToken/);
    assert.equal(loadConfig({ VAPID_SUBJECT: 'mailto:host@bar.example.org' }).push.subject, 'mailto:host@bar.example.org');
    assert.equal(loadConfig({ PUBLIC_URL: 'https://karaoke.fly.dev' }).push.subject, 'https://karaoke.fly.dev');
    assert.equal(loadConfig({ PUBLIC_URL: 'http://192.168.1.20:3000' }).push.subject, undefined);
    assert.equal(loadConfig({}).push.allowLocalEndpoints, false);
    assert.equal(loadConfig({ PUSH_ALLOW_LOCAL_ENDPOINTS: '1' }).push.allowLocalEndpoints, true);
  });
});
