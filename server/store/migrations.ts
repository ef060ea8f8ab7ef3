/**
 * Schema versions of data.json. Version 1 is the first released shape (schema.ts); the legacy
 * app's unversioned file is not a version but an import (legacy.ts, scripts/import-legacy.ts).
 *
 * To change the stored shape: append a step here (migrations[n - 1] turns a version n file into
 * version n + 1, so SCHEMA_VERSION rises by one), update schema.ts, and keep a fixture of the old
 * shape in test/fixtures/schema/ so the step is tested on a real file. The store writes a backup
 * of the old file before running any step, and refuses files newer than it knows.
 */
export type Migration = (data: unknown) => unknown;

type Raw = Record<string, unknown>;
const eachSession = (data: unknown, change: (session: Raw) => Raw): unknown => {
  const sessions = (data as { sessions: Record<string, Raw> }).sessions;
  for (const id of Object.keys(sessions)) sessions[id] = change(sessions[id]!);
  return { ...(data as Raw), version: (data as { version: number }).version + 1 };
};

export const migrations: readonly Migration[] = [
  // 1 → 2: a session is a room with nights and a songbook. Its current night is the first.
  (data) =>
    eachSession(data, (s) => ({ ...s, night: 1, nightStartedAt: s.createdAt, requests: 'any', songbook: null, pastKeyHashes: [] })),
  // 2 → 3: undo. Nothing was undoable before.
  (data) => eachSession(data, (s) => ({ ...s, undo: [] })),
];
