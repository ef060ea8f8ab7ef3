import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpError } from '../server/errors.js';
import type { StoredSession } from '../server/model/session.js';
import type { Actor } from '../server/sessions/auth.js';
import {
  addRequest,
  addSinger,
  advance,
  cancelRequest,
  createSession,
  moveRequest,
  requestSong,
  setHold,
  undo,
  updateSettings,
} from '../server/sessions/queue.js';
import { GUEST_UNDO_LIMIT, pushUndo, UNDO_LIMIT, undoOffer } from '../server/sessions/undo.js';
import { publicState } from '../server/sessions/view.js';

const t0 = new Date('2026-11-20T20:00:00Z');
const later = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

function sessionWith(...names: string[]): StoredSession {
  let s = createSession({ id: 'ABCDEF', name: 'Test', hostKeyHash: 'h', origin: 'http://x', now: t0 });
  for (const name of names) s = addSinger(s, { id: name, name, keyHash: `k${name}`, createdAt: t0.toISOString() }, t0);
  return s;
}

function ask(s: StoredSession, title: string, now = t0): StoredSession {
  const singer = title.replace(/\d+$/, '');
  return addRequest(s, { id: `r${title}`, singer: { id: singer, name: singer }, title, artist: '', link: null }, now).session;
}

const asks = (s: StoredSession, ...titles: string[]) => titles.reduce((x, t) => ask(x, t), s);
const order = (s: StoredSession) => s.queue.map((r) => r.title).join(' ');
const guest = (s: StoredSession, id: string): Actor => ({ role: 'guest', singer: s.singers.find((x) => x.id === id)! });
const host: Actor = { role: 'host' };
const code = (c: string) => (err: unknown) => err instanceof HttpError && err.code === c;

describe('undo', () => {
  it('undoing a next puts the song back on stage and the one that came up back at the head, keeping what guests did meanwhile', () => {
    let s = asks(sessionWith('A', 'B', 'C', 'D'), 'A1', 'B1', 'C1');
    s = advance(s, 'sung', t0); // A1 on stage
    s = advance(s, 'sung', later(200)); // B1 on stage, A1 sung
    assert.equal(undoOffer(s, later(201).getTime())?.label, 'next');
    s = ask(s, 'D1', later(210)); // a guest meanwhile
    s = cancelRequest(s, 'rC1', guest(s, 'C'), later(220)); // and another
    s = undo(s, host, later(230));
    assert.equal(s.nowSinging?.id, 'rA1');
    assert.equal(s.nowSinging?.startedAt, t0.toISOString(), 'A1 keeps the time it started');
    assert.equal(order(s), 'B1 D1');
    assert.deepEqual(s.history, []);
  });

  it('undoing a skip moves the skipped singer\'s songs back to where their round puts them', () => {
    let s = asks(sessionWith('A', 'B', 'C'), 'A1', 'B1', 'B2', 'A2', 'C1');
    s = advance(s, 'sung', t0);
    s = advance(s, 'skipped', t0);
    assert.equal(order(s), 'C1 A2 B2');
    assert.equal(undoOffer(s, t0.getTime())?.label, 'skip A');
    s = undo(s, host, t0);
    assert.equal(s.nowSinging?.id, 'rA1');
    assert.equal(order(s), 'B1 C1 B2 A2');
  });

  it('undoing a remove puts the request back where it was, same id, around what guests added', () => {
    let s = asks(sessionWith('A', 'B', 'C', 'D'), 'A1', 'B1', 'C1');
    s = cancelRequest(s, 'rB1', host, t0);
    assert.equal(undoOffer(s, t0.getTime())?.label, 'remove “B1”');
    s = ask(s, 'D1');
    assert.equal(order(s), 'A1 C1 D1');
    s = undo(s, host, t0);
    assert.equal(order(s), 'A1 B1 C1 D1');
    assert.equal(s.queue[1]!.id, 'rB1');
  });

  it('undoing a remove restores the rotation of that singer\'s other songs: the N example both ways', () => {
    let s = asks(sessionWith('A', 'B', 'N'), 'A1', 'B1', 'N1', 'A2', 'B2', 'N2');
    s = cancelRequest(s, 'rN1', host, t0);
    assert.equal(order(s), 'A1 B1 N2 A2 B2');
    s = undo(s, host, t0);
    assert.equal(order(s), 'A1 B1 N1 A2 B2 N2');
  });

  it('undoing a move moves it back and drops its pin; newest first', () => {
    let s = asks(sessionWith('A', 'B', 'C'), 'A1', 'B1', 'C1');
    s = moveRequest(s, 'rC1', 1, t0);
    s = cancelRequest(s, 'rA1', host, t0);
    assert.equal(order(s), 'C1 B1');
    s = undo(s, host, t0); // the remove first
    assert.equal(order(s), 'C1 A1 B1');
    s = undo(s, host, t0); // then the move
    assert.equal(order(s), 'A1 B1 C1');
    assert.equal(s.queue[2]!.pinned, undefined);
    assert.throws(() => undo(s, host, t0), code('nothing_to_undo'));
  });

  it('undoes a status change and a walk-in (the walk-in singer goes too when nothing else names them)', () => {
    let s = asks(sessionWith('A'), 'A1');
    s = requestSong(s, host, { title: 'Hello', singerName: 'Walt' }, { request: 'rW', singer: 'W' }, t0).session;
    s = updateSettings(s, { status: 'paused' }, t0);
    assert.equal(undoOffer(s, t0.getTime())?.label, 'pause requests');
    s = undo(s, host, t0);
    assert.equal(s.status, 'open');
    assert.equal(undoOffer(s, t0.getTime())?.label, 'walk-in Walt: “Hello”');
    s = undo(s, host, t0);
    assert.equal(order(s), 'A1');
    assert.deepEqual(s.singers.map((x) => x.id), ['A']);
  });

  it("lets a guest undo their own cancel for 30 seconds, and nobody else's", () => {
    let s = asks(sessionWith('A', 'B'), 'A1', 'B1');
    s = cancelRequest(s, 'rA1', guest(s, 'A'), t0);
    assert.equal(undoOffer(s, t0.getTime()), null, "a guest's cancel is not the host's to undo");
    assert.throws(() => undo(s, host, later(1)), code('nothing_to_undo'));
    assert.throws(() => undo(s, guest(s, 'B'), later(1)), code('nothing_to_undo'));
    assert.throws(() => undo(s, guest(s, 'A'), later(31)), code('nothing_to_undo'));
    s = undo(s, guest(s, 'A'), later(29));
    assert.equal(order(s), 'A1 B1');
  });

  it('undoing a cancel respects the per-singer limit and duplicates', () => {
    let s = asks(sessionWith('A'), 'A1', 'A2', 'A3');
    s = cancelRequest(s, 'rA1', guest(s, 'A'), t0);
    s = ask(s, 'A4');
    assert.throws(() => undo(s, guest(s, 'A'), t0), code('queue_limit'));
  });

  it('forgets host actions after 30 minutes and keeps at most 20', () => {
    let s = asks(sessionWith('A', 'B'), 'A1', 'B1');
    s = moveRequest(s, 'rB1', 1, t0);
    assert.ok(undoOffer(s, later(29 * 60).getTime()));
    assert.equal(undoOffer(s, later(31 * 60).getTime()), null);
    assert.throws(() => undo(s, host, later(31 * 60)), code('nothing_to_undo'));
    for (let i = 0; i < 30; i += 1) s = moveRequest(s, 'rA1', 1 + (i % 2), t0);
    assert.equal(s.undo.length, UNDO_LIMIT);
  });

  it('shows the offer in the public state', () => {
    let s = asks(sessionWith('A', 'B'), 'A1', 'B1');
    assert.equal(publicState(s, undefined, t0.getTime()).undo, null);
    s = advance(s, 'sung', t0);
    assert.deepEqual(publicState(s, undefined, t0.getTime()).undo, { label: 'start with A', at: t0.toISOString() });
  });
});

describe('hold my place', () => {
  it('keeps held songs queued, passes over them, and leaves them out of ETAs', () => {
    let s = asks(sessionWith('A', 'B', 'C'), 'A1', 'B1', 'C1');
    s = setHold(s, 'A', true, guest(s, 'A'), t0);
    let view = publicState(s, undefined, t0.getTime());
    assert.deepEqual(view.queue.map((r) => [r.title, r.onHold, r.estimatedStartAt]), [
      ['A1', true, null],
      ['B1', false, t0.toISOString()],
      ['C1', false, later(240).toISOString()],
    ]);
    s = advance(s, 'sung', t0);
    assert.equal(s.nowSinging?.id, 'rB1', 'the first song not on hold comes on stage');
    assert.equal(order(s), 'A1 C1');
    s = advance(s, 'sung', later(200));
    assert.equal(s.nowSinging?.id, 'rC1');
    // Nobody else is waiting: with only held songs queued, the stage empties, then nothing to advance.
    s = advance(s, 'sung', later(400));
    assert.equal(s.nowSinging, null);
    assert.throws(() => advance(s, 'sung', later(401)), code('queue_empty'));
  });

  it('a singer back from hold is where the rotation had them, not at the end', () => {
    let s = asks(sessionWith('A', 'B', 'C'), 'A1', 'B1', 'C1');
    s = setHold(s, 'B', true, host, t0);
    s = asks(s, 'A2', 'C2');
    assert.equal(order(s), 'A1 B1 C1 A2 C2');
    s = advance(s, 'sung', t0); // A1
    s = advance(s, 'sung', t0); // C1, B1 passed over
    assert.equal(order(s), 'B1 A2 C2');
    s = setHold(s, 'B', false, guest(s, 'B'), t0);
    s = advance(s, 'sung', t0);
    assert.equal(s.nowSinging?.id, 'rB1');
  });

  it('a new request does not overtake the singer told they are next when the head is on hold', () => {
    let s = asks(sessionWith('A', 'B', 'C'), 'A1', 'B1');
    s = advance(s, 'sung', t0);
    s = advance(s, 'sung', t0);
    s = advance(s, 'sung', t0); // A and B sang once
    s = asks(s, 'A2', 'B2');
    s = setHold(s, 'A', true, host, t0);
    s = ask(s, 'C1');
    // B2 is next (A2 is held): C1 goes after it, though its round is lower.
    assert.equal(order(s), 'A2 B2 C1');
  });

  it('a guest may hold only themselves; an unknown singer is 404', () => {
    const s = asks(sessionWith('A', 'B'), 'A1');
    assert.throws(() => setHold(s, 'A', true, guest(s, 'B'), t0), code('forbidden'));
    assert.throws(() => setHold(s, 'nobody', true, host, t0), code('singer_not_found'));
    assert.equal(setHold(s, 'A', false, host, t0), s, 'back when not held changes nothing');
  });
});

describe('the undo stack stays small', () => {
  it(`keeps at most ${GUEST_UNDO_LIMIT} guests' cancels, newest, beside every host action`, () => {
    const at = new Date('2026-11-03T21:00:00Z');
    const entry = (by: string | null, n: number) => ({
      label: `#${n}`,
      at: at.toISOString(),
      by,
      action: { kind: 'status' as const, from: 'open' as const },
    });
    let stack = pushUndo([], entry(null, 0), at);
    for (let n = 1; n <= 10; n += 1) stack = pushUndo(stack, entry(`guest-${n}`, n), at);
    stack = pushUndo(stack, entry(null, 11), at);
    assert.deepEqual(stack.map((e) => e.label), ['#0', '#7', '#8', '#9', '#10', '#11']);
  });
});
