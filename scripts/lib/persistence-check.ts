import { createHash } from 'node:crypto';
import { apiError, Failure, http } from './cli.js';

/** What the record phase saw; the verify phase must see exactly the same after a restart. */
export interface Recorded {
  format: 1;
  url: string;
  sessionId: string;
  hostKey: string;
  recordedAt: string;
  server: { startedAt: string | null; uptimeSeconds: number | null };
  state: unknown;
  qr: { sha256: string; bytes: number };
  /** The songbook as GET answers it, and what a search of it finds (absent in records made before songbooks). */
  songbook?: { sha256: string; songs: number; search: string[] };
}

/** A small list in a host program's export shape, with an accent for the search to fold. */
const SONGBOOK_CSV = 'Artist,Title\r\nThe Recorders,Persistence Song 1\r\nBjörk,Jóga\r\nVerifiers,Persistence Song 2\r\n';
const SONGBOOK_QUERY = 'bjork joga';

interface Health {
  startedAt: string | null;
  uptimeSeconds: number | null;
  seenAt: number;
}

const json = { 'Content-Type': 'application/json' };
const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });

async function call<T>(url: string, init: RequestInit, what: string, expected: number): Promise<T> {
  const res = await http(url, init);
  if (res.status !== expected) throw new Failure(`${what} failed: ${await apiError(res)}`);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

/** /healthz when it answers 200, else null (down, restarting or unhealthy). */
export async function health(base: string): Promise<Health | null> {
  try {
    const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(5000) });
    if (res.status !== 200) return null;
    const body = (await res.json()) as { startedAt?: unknown; uptimeSeconds?: unknown };
    return {
      startedAt: typeof body.startedAt === 'string' ? body.startedAt : null,
      uptimeSeconds: typeof body.uptimeSeconds === 'number' ? body.uptimeSeconds : null,
      seenAt: Date.now(),
    };
  } catch {
    return null;
  }
}

/** Time-dependent fields (estimates, the server's clock) are left out: they differ on every read. */
function stable(state: Record<string, unknown>): unknown {
  const { generatedAt: _g, queue, nowSinging, ...rest } = state as {
    generatedAt: unknown;
    queue: Record<string, unknown>[];
    nowSinging: Record<string, unknown> | null;
  };
  return {
    ...rest,
    queue: queue.map(({ estimatedStartAt: _e, ...r }) => r),
    nowSinging: nowSinging && (({ estimatedEndAt: _e, ...r }) => r)(nowSinging),
  };
}

async function readSession(base: string, id: string): Promise<{ state: unknown } | { problem: string }> {
  const res = await http(`${base}/api/sessions/${id}`);
  if (res.status !== 200) return { problem: `GET /api/sessions/${id} answered ${await apiError(res)}` };
  return { state: stable((await res.json()) as Record<string, unknown>) };
}

async function readSongbook(base: string, id: string): Promise<NonNullable<Recorded['songbook']> | { problem: string }> {
  const res = await http(`${base}/api/sessions/${id}/songbook`);
  if (res.status !== 200) return { problem: `GET /api/sessions/${id}/songbook answered ${await apiError(res)}` };
  const body = Buffer.from(await res.arrayBuffer());
  const found = await http(`${base}/api/sessions/${id}/songs?q=${encodeURIComponent(SONGBOOK_QUERY)}`);
  if (found.status !== 200) return { problem: `a search of the songbook answered ${await apiError(found)}` };
  const { results } = (await found.json()) as { results: { artist: string; title: string }[] };
  return {
    sha256: createHash('sha256').update(body).digest('hex'),
    songs: (JSON.parse(body.toString('utf8')) as { songs: unknown[] }).songs.length,
    search: results.map((r) => `${r.artist} - ${r.title}`),
  };
}

async function readPng(base: string, id: string): Promise<{ sha256: string; bytes: number } | { problem: string }> {
  const res = await http(`${base}/qr-codes/${id}.png`);
  if (res.status !== 200) return { problem: `GET /qr-codes/${id}.png answered ${await apiError(res)}` };
  const png = Buffer.from(await res.arrayBuffer());
  return { sha256: createHash('sha256').update(png).digest('hex'), bytes: png.length };
}

/** Create a marked session with singers, a queue, a current song and history, and record it. */
export async function record(base: string, now = new Date()): Promise<Recorded> {
  const server = await health(base);
  if (!server) throw new Failure(`${base}/healthz does not answer 200; is the server up?`);
  const name = `persistence-check ${now.toISOString().slice(0, 19)}Z`;
  const created = await call<{ session: { id: string }; hostKey: string }>(
    `${base}/api/sessions`, { method: 'POST', headers: json, body: JSON.stringify({ name }) }, 'creating the session', 201);
  const id = created.session.id;
  const host = bearer(created.hostKey);
  const join = (singer: string) =>
    call<{ guestKey: string }>(`${base}/api/sessions/${id}/singers`,
      { method: 'POST', headers: json, body: JSON.stringify({ name: singer }) }, `joining as ${singer}`, 201);
  const song = (headers: Record<string, string>, body: Record<string, string>) =>
    call(`${base}/api/sessions/${id}/requests`,
      { method: 'POST', headers: { ...json, ...headers }, body: JSON.stringify(body) }, `requesting "${body.title}"`, 201);
  const ann = await join('Check Ann');
  const bo = await join('Check Bo');
  await song(bearer(ann.guestKey), { title: 'Persistence Song 1', artist: 'The Recorders', link: 'https://example.com/song-1' });
  await song(bearer(bo.guestKey), { title: 'Persistence Song 2', artist: 'Verifiers' });
  await song(bearer(ann.guestKey), { title: 'Persistence Song 3' });
  await song(host, { title: 'Persistence Song 4', artist: 'Walk-ins', singerName: 'Check Cy' });
  for (let i = 0; i < 2; i += 1) {
    await call(`${base}/api/sessions/${id}/next`, { method: 'POST', headers: { ...json, ...host }, body: '{}' }, 'advancing the queue', 200);
  }
  await call(`${base}/api/sessions/${id}/songbook`, { method: 'PUT', headers: { 'Content-Type': 'text/csv', ...host }, body: SONGBOOK_CSV }, 'uploading the songbook', 200);
  const songbook = await readSongbook(base, id);
  if ('problem' in songbook) throw new Failure(songbook.problem);
  if (songbook.search.length === 0) throw new Failure(`a search of the songbook for "${SONGBOOK_QUERY}" found nothing`);
  const state = await readSession(base, id);
  if ('problem' in state) throw new Failure(state.problem);
  const qr = await readPng(base, id);
  if ('problem' in qr) throw new Failure(qr.problem);
  return {
    format: 1,
    url: base,
    sessionId: id,
    hostKey: created.hostKey,
    recordedAt: new Date().toISOString(),
    server: { startedAt: server.startedAt, uptimeSeconds: server.uptimeSeconds },
    state: state.state,
    qr,
    songbook,
  };
}

/** Did a different server process answer than at record time? */
export function isNewProcess(recorded: Recorded, h: Health): boolean {
  if (recorded.server.startedAt && h.startedAt) return h.startedAt !== recorded.server.startedAt;
  // Older servers only report a rounded uptime: allow for the rounding of both readings.
  if (recorded.server.uptimeSeconds === null || h.uptimeSeconds === null) return false;
  const before = Date.parse(recorded.recordedAt) - recorded.server.uptimeSeconds * 1000;
  return h.seenAt - h.uptimeSeconds * 1000 > before + 2000;
}

/** Poll /healthz until a new server process answers, or fail after the timeout. */
export async function waitForRestart(base: string, recorded: Recorded, timeoutMs: number, say: (s: string) => void): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let sawSame = false;
  for (;;) {
    const h = await health(base);
    if (h && isNewProcess(recorded, h)) return;
    if (h && !sawSame) {
      sawSame = true;
      say('the server still answers from the process that was recorded; waiting for it to restart...');
    }
    if (Date.now() > deadline) {
      throw new Failure(
        h
          ? `NOT VERIFIED: the server at ${base} has not restarted since the record phase (started ${h.startedAt ?? `${h.uptimeSeconds} s ago`}). Restart it and run the verify phase again.`
          : `NOT VERIFIED: ${base}/healthz did not answer 200 within ${Math.round(timeoutMs / 1000)} s.`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function diff(expected: unknown, actual: unknown, at: string, out: string[]): void {
  if (out.length >= 20) return;
  if (typeof expected === 'object' && expected !== null && typeof actual === 'object' && actual !== null && Array.isArray(expected) === Array.isArray(actual)) {
    const e = expected as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    if (Array.isArray(e) && Array.isArray(a) && e.length !== a.length) {
      out.push(`${at || 'state'}: expected ${e.length} entries, got ${a.length}`);
    }
    for (const key of new Set([...Object.keys(e), ...Object.keys(a)])) {
      diff(e[key], a[key], Array.isArray(e) ? `${at}[${key}]` : at ? `${at}.${key}` : key, out);
    }
    return;
  }
  if (JSON.stringify(expected) !== JSON.stringify(actual)) {
    out.push(`${at}: expected ${JSON.stringify(expected) ?? 'nothing'}, got ${JSON.stringify(actual) ?? 'nothing'}`);
  }
}

/** Everything that differs from the recording; empty means identical. */
export async function compare(base: string, recorded: Recorded): Promise<string[]> {
  const problems: string[] = [];
  const session = await readSession(base, recorded.sessionId);
  if ('problem' in session) problems.push(`session: ${session.problem}`);
  else diff(recorded.state, session.state, '', problems);
  const qr = await readPng(base, recorded.sessionId);
  if ('problem' in qr) problems.push(`QR PNG: ${qr.problem}`);
  else if (qr.sha256 !== recorded.qr.sha256) {
    problems.push(`QR PNG: expected sha256 ${recorded.qr.sha256} (${recorded.qr.bytes} bytes), got ${qr.sha256} (${qr.bytes} bytes)`);
  }
  if (recorded.songbook) {
    const songbook = await readSongbook(base, recorded.sessionId);
    if ('problem' in songbook) problems.push(`songbook: ${songbook.problem}`);
    else {
      if (songbook.sha256 !== recorded.songbook.sha256) problems.push(`songbook: expected sha256 ${recorded.songbook.sha256} (${recorded.songbook.songs} songs), got ${songbook.sha256} (${songbook.songs} songs)`);
      diff(recorded.songbook.search, songbook.search, `search "${SONGBOOK_QUERY}"`, problems);
    }
  }
  return problems;
}

export async function removeSession(base: string, recorded: Recorded): Promise<void> {
  await call(`${base}/api/sessions/${recorded.sessionId}`, { method: 'DELETE', headers: bearer(recorded.hostKey) }, 'removing the check session', 204);
}

export function summary(recorded: Recorded): string {
  const s = recorded.state as { name: string; queue: unknown[]; history: unknown[]; historyCount: number; nowSinging: unknown; singerCount: number };
  const songbook = recorded.songbook ? `, its songbook (${recorded.songbook.songs} songs)` : '';
  return `session ${recorded.sessionId} "${s.name}" (${s.queue.length} queued, ${s.nowSinging ? 1 : 0} singing, ${s.historyCount} in history, ${s.singerCount} singers)${songbook} and its QR PNG (${recorded.qr.bytes} bytes)`;
}
