// A reference model of one session for the sequence fuzzer: random guest and host operations, the
// answer each must get, and the queue they must leave, stated as the rules and not taken from the
// server's code; and `apply`, which sends an operation over HTTP and checks the answer against it.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { expectedFairIndex, expectedReplaced, type Night } from '../../scripts/bench/invariants.js';
import { TIMEOUT_MS } from './fuzz-requests.js';

export type Op =
  | { op: 'join'; name: string }
  | { op: 'request'; who: number; title: string; artist: string }
  | { op: 'walkIn'; name: string; title: string; sameAs: boolean }
  | { op: 'cancel'; pick: number; by: 'owner' | 'host' | 'stranger' | 'current' }
  | { op: 'next'; outcome: 'sung' | 'skipped'; guard: 'none' | 'right' | 'wrong' }
  | { op: 'move'; pick: number; position: number }
  | { op: 'settings'; rotation?: 'fair' | 'fifo'; status?: 'open' | 'paused' | 'closed'; maxQueuedPerSinger?: number }
  | { op: 'hold'; pick: number; by: 'self' | 'host' | 'stranger'; on: boolean }
  | { op: 'undo'; by: 'host' | 'guest'; pick: number }
  | { op: 'joins'; open: boolean }
  | { op: 'removeSinger'; pick: number; by: 'host' | 'guest' };

// Names and titles from small sets, so walk-ins are reused and duplicates happen; case and accent
// variants check how names and songs are compared.
const names = fc.constantFrom('Ann', 'ann', 'Ánn', 'Bob', ' Bob ', 'Zoë', 'zoe', '美咲');
const titles = fc.constantFrom('Africa', 'africa ', 'Africa  ', 'Hello', 'Zombie', 'Take On Me');
const artists = fc.constantFrom('', 'Toto', 'TOTO', 'Adele');

export const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('join' as const), name: names }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('request' as const), who: fc.nat(9), title: titles, artist: artists }), weight: 6 },
  { arbitrary: fc.record({ op: fc.constant('walkIn' as const), name: names, title: titles, sameAs: fc.boolean() }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('cancel' as const), pick: fc.nat(20), by: fc.constantFrom('owner', 'host', 'stranger', 'current') }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('next' as const), outcome: fc.constantFrom('sung', 'skipped'), guard: fc.constantFrom('none', 'right', 'wrong') }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('move' as const), pick: fc.nat(20), position: fc.integer({ min: 1, max: 40 }) }), weight: 1 },
  {
    arbitrary: fc.record(
      { op: fc.constant('settings' as const), rotation: fc.constantFrom('fair', 'fifo'), status: fc.constantFrom('open', 'open', 'paused', 'closed'), maxQueuedPerSinger: fc.integer({ min: 1, max: 5 }) },
      { requiredKeys: ['op'] },
    ),
    weight: 1,
  },
  { arbitrary: fc.record({ op: fc.constant('hold' as const), pick: fc.nat(9), by: fc.constantFrom('self', 'host', 'stranger'), on: fc.boolean() }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('undo' as const), by: fc.constantFrom('host', 'host', 'guest'), pick: fc.nat(9) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('joins' as const), open: fc.boolean() }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('removeSinger' as const), pick: fc.nat(9), by: fc.constantFrom('host', 'host', 'guest') }), weight: 1 },
);

/** A busy night: mostly joins and requests, some nexts, so long sequences run into every limit. */
export const busyOpArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('join' as const), name: fc.constantFrom('Ann', 'Bob', 'Cleo', 'Dan', 'Eve', 'Fay', 'ann') }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('request' as const), who: fc.nat(9), title: titles, artist: artists }), weight: 8 },
  { arbitrary: fc.record({ op: fc.constant('walkIn' as const), name: fc.constantFrom('Walt', 'Vera', 'Ann'), title: titles, sameAs: fc.boolean() }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('next' as const), outcome: fc.constantFrom('sung', 'skipped'), guard: fc.constant('none' as const) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('undo' as const), by: fc.constant('host' as const), pick: fc.nat(9) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('removeSinger' as const), pick: fc.nat(9), by: fc.constant('host' as const) }), weight: 1 },
);

/** The night's limits the fuzzed server runs with: small, so sequences reach them. */
export const FUZZ_LIMITS = { singersPerNight: 4, queuedSongs: 6, songsPerNight: 10, pushPerSinger: 2 } as const;

interface MSinger {
  id: string;
  name: string;
  key: string | null;
}

interface MRequest {
  id: string;
  singer: { id: string };
  song: string;
  /** Moved by the host: rotation leaves it where the host put it. */
  pinned?: boolean;
}

interface MPast {
  id: string;
  singer: { id: string };
  outcome: 'sung' | 'skipped';
}

const sameName = (a: string, b: string) => a.replace(/\s/g, '').localeCompare(b.replace(/\s/g, ''), undefined, { sensitivity: 'accent' }) === 0;
const song = (title: string, artist: string) => [title, artist].map((s) => s.trim().replace(/\s+/g, ' ').toLocaleLowerCase()).join('\n');

/** What the API should answer: a status and, for errors, the code. */
export interface Expected {
  status: number;
  code?: string;
}

export class SessionModel {
  singers: MSinger[] = [];
  queue: MRequest[] = [];
  nowSinging: string | null = null;
  stageSinger: string | null = null;
  history: string[] = [];
  past: MPast[] = [];
  /** Singers on hold. */
  held = new Set<string>();
  limit = 3;
  highestLimit = 3;
  rotation: 'fair' | 'fifo' = 'fair';
  status: 'open' | 'paused' | 'closed' = 'open';
  joinsOpen = true;
  /**
   * Only requests, cancels, removes and nexts under fair rotation (no move, fifo, hold or undo):
   * then rounds must never go down along the queue after position 1.
   */
  fairKept = true;

  night(): Night {
    return { past: this.past, onStage: this.stageSinger === null ? null : { singer: { id: this.stageSinger } } };
  }

  /** After a singer's rounds went down, fair rotation asks for their songs again. */
  replace(singerId: string): void {
    if (this.rotation === 'fair') this.queue = expectedReplaced(this.queue, singerId, this.night(), this.held);
  }

  guests(): MSinger[] {
    return this.singers.filter((s) => s.key !== null);
  }

  mine(singerId: string): MRequest[] {
    return this.queue.filter((r) => r.singer.id === singerId);
  }

  /** Requests closed and nothing on stage or queued: the public state no longer says who sang. */
  nightOver(): boolean {
    return this.status === 'closed' && this.nowSinging === null && this.queue.length === 0;
  }

  /** Songs of tonight: sung or skipped, on stage, queued. */
  songsTonight(): number {
    return this.history.length + (this.nowSinging ? 1 : 0) + this.queue.length;
  }

  /** The answer to a phone joining as `name`. */
  expectJoin(name: string): Expected {
    if (this.status === 'closed') return { status: 409, code: 'session_closed' };
    if (this.status === 'paused') return { status: 409, code: 'session_paused' };
    if (!this.joinsOpen) return { status: 409, code: 'joins_closed' };
    if (this.singers.length >= FUZZ_LIMITS.singersPerNight) return { status: 409, code: 'session_full' };
    if (this.singers.some((s) => sameName(s.name, name.trim()))) return { status: 409, code: 'name_taken' };
    return { status: 201 };
  }

  /** The answer to a request by `singer` (undefined: a walk-in not yet created, named `walkIn`). */
  expectRequest(singer: MSinger | undefined, title: string, artist: string, walkIn = ''): Expected & { index?: number } {
    if (this.status === 'closed') return { status: 409, code: 'session_closed' };
    if (this.status === 'paused') return { status: 409, code: 'session_paused' };
    if (!singer && this.singers.some((s) => sameName(s.name, walkIn.trim()))) return { status: 409, code: 'name_taken' };
    if (!singer && this.singers.length >= FUZZ_LIMITS.singersPerNight) return { status: 409, code: 'session_full' };
    if (this.queue.length >= FUZZ_LIMITS.queuedSongs) return { status: 409, code: 'queue_full' };
    if (this.songsTonight() >= FUZZ_LIMITS.songsPerNight) return { status: 409, code: 'night_full' };
    const mine = singer ? this.mine(singer.id) : [];
    if (mine.length >= this.limit) return { status: 409, code: 'queue_limit' };
    if (mine.some((r) => r.song === song(title, artist))) return { status: 409, code: 'duplicate_request' };
    const index = this.rotation === 'fifo' ? this.queue.length : expectedFairIndex(this.queue, singer?.id ?? '\0new', this.night(), this.held);
    return { status: 201, index };
  }

  addRequest(index: number, id: string, singerId: string, title: string, artist: string): void {
    this.queue.splice(index, 0, { id, singer: { id: singerId }, song: song(title, artist) });
  }

  walkIn(name: string): MSinger | undefined {
    return this.singers.find((s) => s.key === null && sameName(s.name, name.trim()));
  }

  /** The song next brings on stage: the first whose singer is not on hold. */
  upNext(): MRequest | undefined {
    return this.queue.find((r) => !this.held.has(r.singer.id));
  }

  expectNext(guard: 'none' | 'right' | 'wrong'): Expected {
    if (guard === 'wrong') return { status: 409, code: 'stale_state' };
    if (!this.nowSinging && !this.upNext()) return { status: 409, code: 'queue_empty' };
    return { status: 200 };
  }

  advance(outcome: 'sung' | 'skipped'): void {
    const ended = this.stageSinger;
    if (this.nowSinging) {
      this.history.push(this.nowSinging);
      this.past.push({ id: this.nowSinging, singer: { id: this.stageSinger! }, outcome });
    }
    const head = this.upNext();
    if (head) this.queue.splice(this.queue.indexOf(head), 1);
    this.nowSinging = head?.id ?? null;
    this.stageSinger = head?.singer.id ?? null;
    if (ended !== null && outcome === 'skipped') this.replace(ended);
  }

  cancel(item: MRequest): void {
    this.queue.splice(this.queue.indexOf(item), 1);
    this.replace(item.singer.id);
  }

  move(from: number, position: number): void {
    const [item] = this.queue.splice(from, 1);
    this.queue.splice(Math.min(position, this.queue.length + 1) - 1, 0, { ...item!, pinned: true });
    this.fairKept = false;
  }

  /** What the server says now, after an operation the model does not predict (an undo). */
  resync(state: any): void {
    this.queue = state.queue.map((r: any) => ({ id: r.id, singer: { id: r.singer.id }, song: song(r.title, r.artist), ...(r.pinned ? { pinned: true } : {}) }));
    this.nowSinging = state.nowSinging?.id ?? null;
    this.stageSinger = state.nowSinging?.singer.id ?? null;
    // The state carries the newest songs only; the older ones do not change, so the model keeps its own.
    const older = this.past.slice(0, state.historyCount - state.history.length);
    this.past = [...older, ...state.history.map((r: any) => ({ id: r.id, singer: { id: r.singer.id }, outcome: r.outcome }))];
    this.history = this.past.map((p) => p.id);
    this.status = state.status;
  }

  /** The host removed a singer: their songs go; one who sang stays, without a key (a walk-in's record). */
  removeSinger(singerId: string): void {
    this.queue = this.queue.filter((r) => r.singer.id !== singerId);
    this.held.delete(singerId);
    const sang = this.stageSinger === singerId || this.past.some((p) => p.singer.id === singerId);
    this.singers = sang ? this.singers.map((s) => (s.id === singerId ? { ...s, key: null } : s)) : this.singers.filter((s) => s.id !== singerId);
  }

  settings(patch: Extract<Op, { op: 'settings' }>): void {
    if (patch.rotation) this.rotation = patch.rotation;
    if (patch.status) this.status = patch.status;
    if (patch.maxQueuedPerSinger) {
      this.limit = patch.maxQueuedPerSinger;
      this.highestLimit = Math.max(this.highestLimit, this.limit);
    }
    if (this.rotation === 'fifo') this.fairKept = false;
  }
}

export async function api(url: string, method: string, p: string, body?: unknown, key?: string | null): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${p}`, {
    method,
    headers: { 'Content-Type': 'application/json', ...(key ? { Authorization: `Bearer ${key}` } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

export interface Target {
  url: string;
  id: string;
  hostKey: string;
  model: SessionModel;
  /** Check every answer against the model; off when operations race and only ids and keys are wanted. */
  strict: boolean;
}

/** Apply one operation over HTTP and to the model, checking the answer against the model's. */
export async function apply({ url, id, hostKey, model, strict }: Target, op: Op): Promise<void> {
  const base = `/api/sessions/${id}`;
  const expect = (reply: { status: number; body: any }, expected: Expected): void => {
    const what = `${JSON.stringify(op)} -> ${reply.status} ${JSON.stringify(reply.body)}`;
    assert.ok(reply.status >= 200 && reply.status < 500, what);
    if (!strict) return;
    assert.equal(reply.status, expected.status, what);
    if (expected.code) assert.equal(reply.body?.error?.code, expected.code, what);
  };
  switch (op.op) {
    case 'join': {
      const reply = await api(url, 'POST', `${base}/singers`, { name: op.name });
      expect(reply, model.expectJoin(op.name));
      if (reply.status === 201) model.singers.push({ id: reply.body.singer.id, name: reply.body.singer.name, key: reply.body.guestKey });
      return;
    }
    case 'request':
    case 'walkIn': {
      const guests = model.guests();
      const singer = op.op === 'walkIn' ? model.walkIn(op.name) : guests[op.who % Math.max(1, guests.length)];
      if (op.op === 'request' && !singer) return;
      const artist = op.op === 'request' ? op.artist : '';
      const expected = model.expectRequest(singer, op.title, artist, op.op === 'walkIn' ? op.name : '');
      const body = op.op === 'walkIn' ? { title: op.title, singerName: op.name } : { title: op.title, artist };
      let reply = await api(url, 'POST', `${base}/requests`, body, op.op === 'walkIn' ? hostKey : singer!.key);
      expect(reply, expected);
      // A walk-in named like a phone guest: the host says it is them, and the song goes on their list.
      if (op.op === 'walkIn' && op.sameAs && reply.body?.error?.code === 'name_taken') {
        const guest = model.singers.find((s) => s.id === reply.body.error.singer?.id);
        if (strict) assert.ok(guest && guest.key !== null && sameName(guest.name, op.name), 'name_taken names the phone guest');
        if (!guest) return;
        const again = model.expectRequest(guest, op.title, '');
        reply = await api(url, 'POST', `${base}/requests`, { title: op.title, singerId: guest.id }, hostKey);
        expect(reply, again);
        if (reply.status !== 201) return;
        if (strict) assert.equal(reply.body.position, again.index! + 1, 'fair or fifo position for the guest the host named');
        model.addRequest(reply.body.position - 1, reply.body.request.id, guest.id, op.title, '');
        return;
      }
      if (reply.status !== 201) return;
      if (strict) assert.equal(reply.body.position, expected.index! + 1, `fair or fifo position for ${JSON.stringify(op)}`);
      const singerId = reply.body.request.singer.id as string;
      if (!model.singers.some((s) => s.id === singerId)) model.singers.push({ id: singerId, name: reply.body.request.singer.name, key: null });
      else if (strict) assert.equal(singerId, singer?.id, 'a walk-in of the same name is reused');
      model.addRequest(reply.body.position - 1, reply.body.request.id, singerId, op.title, artist);
      return;
    }
    case 'cancel': {
      const item = model.queue[op.pick % Math.max(1, model.queue.length)];
      if (op.by === 'current' || !item) {
        const target = op.by === 'current' ? model.nowSinging : null;
        const reply = await api(url, 'DELETE', `${base}/requests/${target ?? 'noSuchSong1'}`, undefined, hostKey);
        expect(reply, target ? { status: 409, code: 'already_singing' } : { status: 404, code: 'request_not_found' });
        return;
      }
      const owner = model.singers.find((s) => s.id === item.singer.id)!;
      const stranger = model.guests().find((g) => g.id !== owner.id);
      if (op.by === 'stranger' && !stranger) return;
      const key = op.by === 'host' ? hostKey : op.by === 'owner' ? (owner.key ?? hostKey) : stranger!.key;
      const reply = await api(url, 'DELETE', `${base}/requests/${item.id}`, undefined, key);
      expect(reply, op.by === 'stranger' ? { status: 403, code: 'forbidden' } : { status: 204 });
      if (reply.status === 204 && model.queue.includes(item)) model.cancel(item);
      return;
    }
    case 'next': {
      const guard = op.guard === 'right' ? { expectedCurrentId: model.nowSinging } : op.guard === 'wrong' ? { expectedCurrentId: 'someoneElse1' } : {};
      const head = model.upNext()?.id ?? null;
      const reply = await api(url, 'POST', `${base}/next`, { outcome: op.outcome, ...guard }, hostKey);
      expect(reply, model.expectNext(op.guard));
      if (reply.status !== 200) return;
      if (strict) assert.equal(reply.body.nowSinging?.id ?? null, head);
      if (reply.body.nowSinging) assert.ok(!model.held.has(reply.body.nowSinging.singer.id) || !strict, 'a song on hold never comes on stage');
      model.advance(op.outcome);
      if (strict) assert.deepEqual(reply.body.queue.map((r: { id: string }) => r.id), model.queue.map((r) => r.id), 'the queue after next');
      return;
    }
    case 'move': {
      const item = model.queue[op.pick % Math.max(1, model.queue.length)];
      const reply = await api(url, 'PATCH', `${base}/requests/${item?.id ?? 'noSuchSong1'}`, { position: op.position }, hostKey);
      expect(reply, item ? { status: 200 } : { status: 404, code: 'request_not_found' });
      if (reply.status !== 200 || !item) return;
      model.move(model.queue.indexOf(item), op.position);
      if (strict) assert.deepEqual(reply.body.queue.map((r: { id: string }) => r.id), model.queue.map((r) => r.id));
      return;
    }
    case 'settings': {
      const { op: _, ...patch } = op;
      const reply = await api(url, 'PATCH', base, patch, hostKey);
      expect(reply, Object.keys(patch).length === 0 ? { status: 400, code: 'invalid_input' } : { status: 200 });
      if (reply.status === 200) model.settings(op);
      return;
    }
    case 'hold': {
      const singer = model.singers[op.pick % Math.max(1, model.singers.length)];
      if (!singer) return;
      const stranger = model.guests().find((g) => g.id !== singer.id);
      const key = op.by === 'host' || (op.by === 'self' && singer.key === null) ? hostKey : op.by === 'self' ? singer.key : stranger?.key;
      if (!key) return;
      const reply = await api(url, op.on ? 'POST' : 'DELETE', `${base}/singers/${singer.id}/hold`, undefined, key);
      const refused = op.by === 'stranger';
      expect(reply, refused ? { status: 403, code: 'forbidden' } : { status: 200 });
      if (reply.status !== 200) return;
      if (op.on) model.held.add(singer.id);
      else model.held.delete(singer.id);
      model.fairKept = false;
      if (strict) {
        assert.deepEqual(reply.body.queue.map((r: { id: string }) => r.id), model.queue.map((r) => r.id), 'a hold moves nothing');
        for (const r of reply.body.queue) {
          assert.equal(r.onHold, model.held.has(r.singer.id), 'held songs are marked');
          assert.equal(r.estimatedStartAt === null, r.onHold, 'a held song has no estimate');
        }
      }
      return;
    }
    case 'undo': {
      const guest = model.guests()[op.pick % Math.max(1, model.guests().length)];
      const key = op.by === 'host' ? hostKey : guest?.key;
      if (!key) return;
      const before = (await api(url, 'GET', base)).body;
      const reply = await api(url, 'POST', `${base}/undo`, undefined, key);
      const undoing = op.by === 'host' ? (before.undo?.label as string | undefined) : undefined;
      // What an undo gives is the inverse applied to the queue as it is: the model takes the
      // server's word for the queue, and checks the answer and the invariants.
      const full = ['queue_full', 'night_full'];
      const restoring = undoing === undefined || undoing.startsWith('remove') ? ['queue_limit', 'duplicate_request', 'nothing_to_undo', ...full] : /^(next|skip|start with)\b/.test(undoing) ? ['queue_limit', ...full] : [];
      if (strict && op.by === 'host') {
        if (undoing === undefined) expect(reply, { status: 409, code: 'nothing_to_undo' });
        else assert.ok(reply.status === 200 || restoring.includes(reply.body?.error?.code), `undo ${undoing} -> ${reply.status}`);
      } else {
        // Racing a removal, a guest's key may be gone by the time the undo lands.
        const gone = !strict && reply.body?.error?.code === 'unauthorized';
        assert.ok(reply.status === 200 || gone || ['queue_limit', 'duplicate_request', 'nothing_to_undo', ...full].includes(reply.body?.error?.code));
      }
      if (reply.status !== 200) return;
      if (reply.body.singerCount < model.singers.length) {
        // Undoing a walk-in took the singer it had added.
        const gone = new Set(model.queue.map((r) => r.id));
        for (const r of reply.body.queue) gone.delete(r.id);
        const removed = model.queue.find((r) => gone.has(r.id))?.singer.id;
        model.singers = model.singers.filter((s) => s.id !== removed);
      }
      model.resync(reply.body);
      model.fairKept = false;
      return;
    }
    case 'joins': {
      const reply = await api(url, 'PATCH', base, { joinsOpen: op.open }, hostKey);
      expect(reply, { status: 200 });
      if (reply.status === 200) model.joinsOpen = op.open;
      return;
    }
    case 'removeSinger': {
      const singer = model.singers[op.pick % Math.max(1, model.singers.length)];
      if (!singer) return;
      const stranger = model.guests().find((g) => g.id !== singer.id);
      const key = op.by === 'host' ? hostKey : stranger?.key;
      if (!key) return;
      const reply = await api(url, 'DELETE', `${base}/singers/${singer.id}`, undefined, key);
      expect(reply, op.by === 'host' ? { status: 200 } : { status: 403, code: 'forbidden' });
      if (reply.status !== 200) return;
      model.removeSinger(singer.id);
      if (strict) {
        assert.deepEqual(reply.body.queue.map((r: { id: string }) => r.id), model.queue.map((r) => r.id), 'their songs are gone, the others stay in order');
        assert.equal(reply.body.singerCount, model.singers.length);
      }
    }
  }
}
