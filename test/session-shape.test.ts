import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StoredSessionSchema, type StoredSession } from '../server/model/session.js';
import { createSession } from '../server/sessions/queue.js';
import { openStore, readStoredData } from '../server/store/index.js';
import { tempDataDir } from './support/app.js';

/** A session with every field the schema knows set to something other than its default. */
function everyFieldSet(): StoredSession {
  const base = createSession({ id: 'K7MP2Q', name: 'Every Field', hostKeyHash: 'hash-of-host-key', origin: 'https://karaoke.example', now: new Date('2026-11-03T19:00:00Z') });
  const singer = {
    id: 'singer-0001', name: 'Ann', keyHash: 'hash-of-guest-key', createdAt: '2026-11-03T19:01:00.000Z', onHold: true,
    push: [{ endpoint: 'https://push.example/abc', keys: { p256dh: 'p256dh-key', auth: 'auth-secret' }, createdAt: '2026-11-03T19:01:30.000Z' }],
    told: ['request-001:next', 'request-001:on-stage'],
  };
  const song = { id: 'request-001', singer: { id: singer.id, name: singer.name }, title: 'Valerie', artist: 'Amy Winehouse', link: 'https://example.com/v', createdAt: '2026-11-03T19:02:00.000Z', songId: 'AW-01', inSongbook: true, pinned: true };
  return {
    ...base,
    status: 'paused',
    rotation: 'fifo',
    maxQueuedPerSinger: 5,
    endsAt: '2026-11-04T01:00:00.000Z',
    version: 9,
    singers: [singer, { ...singer, id: 'singer-0002', name: 'Walk-in', keyHash: null }],
    queue: [{ ...song, id: 'request-002', inSongbook: false }],
    nowSinging: { ...song, startedAt: '2026-11-03T19:03:00.000Z' },
    history: [{ ...song, id: 'request-000', startedAt: '2026-11-03T19:02:30.000Z', endedAt: '2026-11-03T19:02:59.000Z', outcome: 'skipped' }],
    night: 3,
    nightStartedAt: '2026-11-03T18:00:00.000Z',
    requests: 'songbook',
    songbook: { songs: 1234, updatedAt: '2026-11-02T12:00:00.000Z' },
    pastKeyHashes: ['hash-of-last-weeks-guest'],
    undo: [
      { label: 'next', at: '2026-11-03T19:03:00.000Z', by: null, action: { kind: 'next', ended: 'request-000', started: 'request-001' } },
      { label: 'move', at: '2026-11-03T19:03:10.000Z', by: null, action: { kind: 'move', requestId: 'request-002', from: 0, pinned: false } },
      { label: 'cancel', at: '2026-11-03T19:03:20.000Z', by: 'singer-0001', action: { kind: 'cancel', request: { ...song, id: 'request-003' }, index: 1 } },
      { label: 'status', at: '2026-11-03T19:03:30.000Z', by: null, action: { kind: 'status', from: 'open' } },
      { label: 'walk-in', at: '2026-11-03T19:03:40.000Z', by: null, action: { kind: 'walkIn', requestId: 'request-002', singerId: 'singer-0002' } },
    ],
    joinsOpen: false,
  };
}

describe('the stored session shape', () => {
  it('every field of a stored session survives a restart: the schema that checks data.json knows them all', async (t) => {
    const session = everyFieldSet();
    // A field set here but missing from the schema would be dropped by the check at start.
    assert.deepEqual(Object.keys(session).sort(), Object.keys(StoredSessionSchema.shape).sort());
    const dataDir = await tempDataDir(t);
    const first = await openStore({ dataDir });
    await first.store.put(session);
    await first.store.close();
    const second = await openStore({ dataDir });
    t.after(() => second.store.close());
    assert.deepEqual(second.store.get(session.id), session);
  });

  it('a session that the journal holds (an unclean stop) comes back with every field too', async (t) => {
    const session = everyFieldSet();
    const dataDir = await tempDataDir(t);
    const first = await openStore({ dataDir });
    await first.store.put(session);
    // Before the close: the change is only in the journal, as after a crash.
    assert.deepEqual((await readStoredData(dataDir)).sessions[session.id], session);
    await first.store.close();
  });
});
