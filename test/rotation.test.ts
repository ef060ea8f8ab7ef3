import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StoredSession } from '../server/model/session.js';
import type { Actor } from '../server/sessions/auth.js';
import { addRequest, addSinger, advance, cancelRequest, createSession, moveRequest, requestSong } from '../server/sessions/queue.js';

const t0 = new Date('2026-11-20T20:00:00Z');

function sessionWith(...names: string[]): StoredSession {
  let s = createSession({ id: 'ABCDEF', name: 'Test', hostKeyHash: 'h', origin: 'http://x', now: t0 });
  for (const name of names) s = addSinger(s, { id: name, name, keyHash: `k${name}`, createdAt: t0.toISOString() }, t0);
  return s;
}

/** A request titled by its singer and round, "A2" for A's second song of the night. */
function ask(s: StoredSession, title: string): StoredSession {
  const singer = title.replace(/\d+$/, '');
  return addRequest(s, { id: `r${title}`, singer: { id: singer, name: singer }, title, artist: '', link: null }, t0).session;
}

const asks = (s: StoredSession, ...titles: string[]) => titles.reduce(ask, s);
const order = (s: StoredSession) => s.queue.map((r) => r.title).join(' ');
const guest = (s: StoredSession, id: string): Actor => ({ role: 'guest', singer: s.singers.find((x) => x.id === id)! });
const host: Actor = { role: 'host' };

describe('fair turns count what was sung', () => {
  it('a walk-in goes ahead of second songs when A and B have sung once: A2 B2 + W gives A2 W B2', () => {
    let s = asks(sessionWith('A', 'B'), 'A1', 'B1');
    s = advance(s, 'sung', t0);
    s = advance(s, 'sung', t0);
    s = advance(s, 'sung', t0);
    assert.equal(s.nowSinging, null);
    s = asks(s, 'A2', 'B2');
    assert.equal(order(s), 'A2 B2');
    s = requestSong(s, host, { title: 'W1', singerName: 'W' }, { request: 'rW1', singer: 'W' }, t0).session;
    assert.equal(order(s), 'A2 W1 B2');
  });

  it('counts the song on stage as a turn', () => {
    let s = asks(sessionWith('A', 'B', 'C'), 'A1', 'B1');
    s = advance(s, 'sung', t0); // A1 on stage
    s = asks(s, 'A2', 'C1');
    // A2 is A's second turn: C's first goes before it.
    assert.equal(order(s), 'B1 C1 A2');
  });

  it('a cancel does not leave the singer behind: A1 B1 N1 A2 B2 N2, N cancels N1, gives A1 B1 N2 A2 B2', () => {
    let s = asks(sessionWith('A', 'B', 'N'), 'A1', 'B1', 'N1', 'A2', 'B2', 'N2');
    assert.equal(order(s), 'A1 B1 N1 A2 B2 N2');
    s = cancelRequest(s, 'rN1', guest(s, 'N'), t0);
    assert.equal(order(s), 'A1 B1 N2 A2 B2');
  });

  it("a host's remove re-places that singer's other songs too", () => {
    let s = asks(sessionWith('A', 'B', 'N'), 'A1', 'B1', 'N1', 'A2', 'B2', 'N2', 'A3', 'N3');
    assert.equal(order(s), 'A1 B1 N1 A2 B2 N2 A3 N3');
    s = cancelRequest(s, 'rN1', host, t0);
    assert.equal(order(s), 'A1 B1 N2 A2 B2 N3 A3');
  });

  it('skipped songs are not turns: a skipped singer catches up', () => {
    let s = asks(sessionWith('A', 'B', 'C'), 'A1', 'B1', 'B2', 'A2', 'C1');
    assert.equal(order(s), 'A1 B1 C1 B2 A2');
    s = advance(s, 'sung', t0); // A1 on stage
    s = advance(s, 'skipped', t0); // A was not there; B1 on stage
    assert.equal(order(s), 'C1 A2 B2');
    // And a skipped singer's new request is placed as a first song.
    let t = asks(sessionWith('A', 'B', 'C'), 'A1', 'B1', 'C1');
    t = advance(t, 'sung', t0);
    t = advance(t, 'skipped', t0); // A1 skipped, B1 on stage
    t = asks(t, 'B2', 'A2');
    assert.equal(order(t), 'C1 A2 B2');
  });

  it('never puts a new request ahead of position 1, and goes first into an empty queue', () => {
    let s = asks(sessionWith('A', 'B'), 'A1');
    assert.equal(order(s), 'A1');
    s = advance(s, 'sung', t0);
    s = advance(s, 'sung', t0); // A has sung once; nobody on stage, queue empty
    s = asks(s, 'A2');
    assert.equal(order(s), 'A2');
    // B has had no turn, so B1's round (0) is lower than A2's (1); A2 was told it is next.
    s = asks(s, 'B1');
    assert.equal(order(s), 'A2 B1');
  });

  it('a song the host moved keeps the place the host gave it when its singer cancels another', () => {
    let s = asks(sessionWith('A', 'B', 'C'), 'A1', 'B1', 'C1', 'A2', 'B2');
    assert.equal(order(s), 'A1 B1 C1 A2 B2');
    s = moveRequest(s, 'rB2', 2, t0);
    assert.equal(order(s), 'A1 B2 B1 C1 A2');
    assert.equal(s.queue[1]!.pinned, true);
    s = cancelRequest(s, 'rB1', guest(s, 'B'), t0);
    assert.equal(order(s), 'A1 B2 C1 A2');
    // New requests fit around it by the rule.
    s = ask(s, 'C2');
    assert.equal(order(s), 'A1 B2 C1 A2 C2');
  });

  it('a pinned song loses its pin when it comes on stage', () => {
    let s = asks(sessionWith('A', 'B'), 'A1', 'B1');
    s = moveRequest(s, 'rB1', 1, t0);
    s = advance(s, 'sung', t0);
    assert.equal(s.nowSinging?.id, 'rB1');
    assert.equal('pinned' in s.nowSinging!, false);
  });

  it('fifo is unchanged: arrival order, and a cancel re-places nothing', () => {
    let s: StoredSession = { ...sessionWith('A', 'B', 'N'), rotation: 'fifo' };
    s = asks(s, 'A1', 'A2', 'N1', 'B1', 'N2');
    assert.equal(order(s), 'A1 A2 N1 B1 N2');
    s = cancelRequest(s, 'rN1', guest(s, 'N'), t0);
    assert.equal(order(s), 'A1 A2 B1 N2');
    s = advance(s, 'sung', t0);
    s = advance(s, 'skipped', t0);
    assert.equal(order(s), 'B1 N2');
  });
});
