import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { averageSongMs, DEFAULT_SONG_MS } from '../server/sessions/eta.js';
import { normalizeSessionId, type StoredSession } from '../server/model/session.js';
import { addRequest, addSinger, advance, createSession, moveRequest } from '../server/sessions/queue.js';
import { fairInsertIndex } from '../server/sessions/rotation.js';
import { publicState } from '../server/sessions/view.js';

const t0 = new Date('2026-11-20T20:00:00Z');
const at = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);

function sessionWith(...names: string[]): StoredSession {
  let s = createSession({ id: 'ABCDEF', name: 'Test', hostKeyHash: 'h', origin: 'http://x', now: t0 });
  for (const name of names) s = addSinger(s, { id: name, name, keyHash: `k${name}`, createdAt: t0.toISOString() }, t0);
  return s;
}

let seq = 0;
function request(s: StoredSession, singer: string, now = t0): StoredSession {
  seq += 1;
  return addRequest(s, { id: `r${seq}`, singer: { id: singer, name: singer }, title: `${singer}${seq}`, artist: '', link: null }, now).session;
}

const order = (s: StoredSession) => s.queue.map((r) => r.singer.id).join(' ');

describe('fair rotation', () => {
  it('puts a second song after everyone else\'s first (the example from the rules)', () => {
    let s = sessionWith('A', 'B', 'C');
    s = request(s, 'A');
    s = request(s, 'B');
    s = request(s, 'A');
    assert.equal(order(s), 'A B A');
    s = request(s, 'C');
    assert.equal(order(s), 'A B C A');
    s = request(s, 'B');
    assert.equal(order(s), 'A B C A B');
  });

  it('keeps rounds with five singers requesting in bursts', () => {
    let s = sessionWith('A', 'B', 'C', 'D', 'E');
    s = { ...s, maxQueuedPerSinger: 5 };
    for (let i = 0; i < 3; i += 1) s = request(s, 'A');
    s = request(s, 'B');
    s = request(s, 'C');
    s = request(s, 'B');
    s = request(s, 'D');
    s = request(s, 'E');
    s = request(s, 'E');
    assert.equal(order(s), 'A B C D E A B E A');
  });

  it('fifo appends in arrival order', () => {
    let s: StoredSession = { ...sessionWith('A', 'B'), rotation: 'fifo' };
    s = request(s, 'A');
    s = request(s, 'A');
    s = request(s, 'B');
    assert.equal(order(s), 'A A B');
  });

  it('respects a host reorder for what was moved and fits new requests around it', () => {
    let s = sessionWith('A', 'B', 'C');
    s = request(s, 'A');
    s = request(s, 'A');
    s = request(s, 'B');
    assert.equal(order(s), 'A B A');
    s = moveRequest(s, s.queue[2]!.id, 1, t0);
    assert.equal(order(s), 'A A B');
    // C has had no song yet, so C goes before A's second one.
    assert.equal(fairInsertIndex(s, 'C'), 1);
  });
});

describe('estimated start times', () => {
  it('uses four minutes per song until one was sung, then the average of sung songs', () => {
    let s = sessionWith('A', 'B', 'C');
    s = request(s, 'A');
    s = request(s, 'B');
    s = request(s, 'C');
    assert.equal(averageSongMs(s), DEFAULT_SONG_MS);
    s = advance(s, 'sung', at(0));
    let view = publicState(s, undefined, at(0).getTime());
    assert.deepEqual(
      view.queue.map((r) => r.estimatedStartAt),
      [at(4).toISOString(), at(8).toISOString()],
    );
    s = advance(s, 'sung', at(3)); // A sang for 3 minutes
    assert.equal(averageSongMs(s), 3 * 60_000);
    view = publicState(s, undefined, at(3).getTime());
    assert.equal(view.nowSinging?.singer.id, 'B');
    assert.equal(view.queue[0]!.estimatedStartAt, at(6).toISOString());
    // B overruns: the estimate for C never lies in the past.
    view = publicState(s, undefined, at(10).getTime());
    assert.equal(view.queue[0]!.estimatedStartAt, at(10).toISOString());
  });

  it('ignores skipped songs and mis-clicks when averaging', () => {
    let s = sessionWith('A', 'B', 'C');
    s = request(s, 'A');
    s = request(s, 'B');
    s = request(s, 'C');
    s = advance(s, 'sung', at(0));
    s = advance(s, 'skipped', at(1)); // A skipped after a minute
    s = advance(s, 'sung', new Date(at(1).getTime() + 5_000)); // B "sung" for 5 s: a double tap
    assert.equal(averageSongMs(s), DEFAULT_SONG_MS);
  });
});

describe('session codes', () => {
  it('accepts any case and rejects look-alike or malformed codes', () => {
    assert.equal(normalizeSessionId('abc234'), 'ABC234');
    assert.equal(normalizeSessionId(' XYZ789 '), 'XYZ789');
    assert.equal(normalizeSessionId('ABCDE0'), undefined); // 0 is not in the alphabet
    assert.equal(normalizeSessionId('ABCDEI'), undefined);
    assert.equal(normalizeSessionId('../etc'), undefined);
    assert.equal(normalizeSessionId('ABCDE'), undefined);
  });
});
