/**
 * One step per schema version: migrations[n - 1] turns a version n file into version n + 1.
 * Each step is a pure function on parsed JSON; the store backs the file up before running any.
 */
export type Migration = (data: unknown) => unknown;

export const migrations: readonly Migration[] = [];
