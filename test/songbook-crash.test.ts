import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tempDataDir } from './support/app.js';
import { startServer, type RunningServer } from './support/processes.js';

/** A list of `count` songs whose titles say which upload they came from. */
function songList(tag: string, count: number): string {
  const rows = ['Artist,Title'];
  for (let i = 0; i < count; i += 1) rows.push(`Band ${i % 997},"${tag} song ${i}, take ${i % 7}"`);
  return rows.join('\n');
}

async function json<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

describe('songbook uploads under SIGKILL', () => {
  it('a songbook upload is atomic under SIGKILL: after a restart the room has the old list or the new one, never part of one', async (t) => {
    const dataDir = await tempDataDir(t);
    let server: RunningServer = await startServer(t, dataDir);
    const created = await json<{ session: { id: string }; hostKey: string }>(
      await fetch(`${server.url}/api/sessions`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'Crash Karaoke' }) }),
    );
    const id = created.session.id;
    const put = (url: string, body: string) =>
      fetch(`${url}/api/sessions/${id}/songbook`, { method: 'PUT', headers: { Authorization: `Bearer ${created.hostKey}`, 'Content-Type': 'text/csv' }, body });
    const lists = { A: songList('A', 2_000), B: songList('B', 60_000) };
    assert.equal((await put(server.url, lists.A)).status, 200);

    let acknowledged = 0;
    let kept = { A: 0, B: 0 };
    // From before the body is read to after the answer: the 60,000-song list takes a few hundred ms.
    const delays = [0, 40, 120, 250, 400, 650, 1000, 3000];
    const trials = delays.length;
    for (let trial = 0; trial < trials; trial += 1) {
      // The other list goes up now; the process dies somewhere before, during or after the answer.
      const current = await json<{ songs: { title: string }[] }>(await fetch(`${server.url}/api/sessions/${id}/songbook`));
      const next = current.songs[0]!.title.startsWith('A') ? 'B' : 'A';
      const upload = put(server.url, lists[next]).then((res) => res.status, () => 0);
      const answered = await Promise.race([upload, new Promise<null>((resolve) => setTimeout(() => resolve(null), delays[trial]))]);
      await server.stop('SIGKILL');
      const status = answered ?? (await upload);
      server = await startServer(t, dataDir);
      const after = await json<{ songs: { title: string }[] }>(await fetch(`${server.url}/api/sessions/${id}/songbook`));
      const which = after.songs[0]!.title.startsWith('A') ? 'A' : 'B';
      const expectedCount = which === 'A' ? 2_000 : 60_000;
      assert.equal(after.songs.length, expectedCount, `trial ${trial}: a whole list, not part of one`);
      assert.ok(after.songs.every((s) => s.title.startsWith(which)), `trial ${trial}: one list, not a mix`);
      if (status === 200) {
        acknowledged += 1;
        assert.equal(which, next, `trial ${trial}: an acknowledged upload survives the kill`);
      }
      kept = { ...kept, [which]: kept[which] + 1 };
    }
    t.diagnostic(`${trials} kills: ${acknowledged} uploads acknowledged before the kill; lists kept: A ${kept.A}, B ${kept.B}`);
  });
});
