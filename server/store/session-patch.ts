import { UnreadableDataError } from './errors.js';

/**
 * What changed in one session between two durable versions, for a journal record that costs what
 * the change is, not what the session weighs: a join to a 300-singer night writes one singer, a
 * song sung writes one history entry, not the night again. Sessions are immutable and each change
 * keeps the parts it did not touch (the same objects), so the difference is found by identity:
 * a top-level field that is a new object is written whole; an array is written as what changed at
 * its ends (items dropped at the front, items added at the end) or in one stretch (the items kept
 * before and after it, and the new items between), whichever is smaller.
 */
export interface SessionPatch {
  /** The version the patch applies to, and the one it gives. */
  from: number;
  to: number;
  /** Fields written whole. */
  set?: Record<string, unknown>;
  /** Fields removed. */
  unset?: string[];
  /** Arrays changed at their ends: `[n, items]` = the old array without its first n items, then `items`. */
  ends?: Record<string, [number, unknown[]]>;
  /** Arrays changed in one stretch: `[p, s, items]` = the old array's first p items, `items`, its last s items. */
  splices?: Record<string, [number, number, unknown[]]>;
}

type Plain = Record<string, unknown>;

/** How the array `after` follows from `before` by dropping items at the front and adding at the end, if it does. */
function arrayEnds(before: readonly unknown[], after: readonly unknown[]): [number, unknown[]] | undefined {
  const dropped = after.length === 0 ? before.length : before.indexOf(after[0]);
  if (dropped === -1) return undefined;
  const kept = before.length - dropped;
  if (kept > after.length) return undefined;
  for (let i = 0; i < kept; i += 1) if (after[i] !== before[dropped + i]) return undefined;
  // Nothing kept: the whole array is new, and a plain `set` says so as briefly.
  if (kept === 0 && before.length > 0) return undefined;
  return [dropped, after.slice(kept)];
}

/** The stretch where `after` differs from `before`: the items kept at the front and at the back, and what is between. */
function arraySplice(before: readonly unknown[], after: readonly unknown[]): [number, number, unknown[]] {
  const most = Math.min(before.length, after.length);
  let front = 0;
  while (front < most && before[front] === after[front]) front += 1;
  let back = 0;
  while (back < most - front && before[before.length - 1 - back] === after[after.length - 1 - back]) back += 1;
  return [front, back, after.slice(front, after.length - back)];
}

/**
 * The patch from `before` to `after`, or undefined when the whole session must be written: a
 * version that did not rise (a replay check needs it to), or nothing in common.
 */
export function diffSession(before: object, after: object): SessionPatch | undefined {
  const b = before as Plain;
  const a = after as Plain;
  if (typeof b.version !== 'number' || typeof a.version !== 'number' || a.version <= b.version) return undefined;
  const patch: SessionPatch = { from: b.version, to: a.version };
  for (const key of Object.keys(a)) {
    const was = b[key];
    const now = a[key];
    if (was === now) continue;
    if (Array.isArray(was) && Array.isArray(now)) {
      // Whichever carries fewer items: a song sung grows the history at its end, a move or an undo
      // changes one stretch of the queue.
      const ends = arrayEnds(was, now);
      const splice = arraySplice(was, now);
      if (ends && ends[1].length <= splice[2].length) {
        (patch.ends ??= {})[key] = ends;
        continue;
      }
      if (splice[0] + splice[1] > 0) {
        (patch.splices ??= {})[key] = splice;
        continue;
      }
    }
    (patch.set ??= {})[key] = now;
  }
  for (const key of Object.keys(b)) if (!Object.hasOwn(a, key)) (patch.unset ??= []).push(key);
  return patch;
}

/**
 * Apply a patch to a session as read from data.json (plain JSON). A patch the session already holds
 * (data.json was checkpointed after it, and the journal not yet emptied when the machine stopped) is
 * skipped; one that does not follow from the session's version is damage, and the start stops.
 */
export function applyPatch(sessions: Record<string, unknown>, id: string, patch: SessionPatch, file: string): void {
  const session = sessions[id] as Plain | undefined;
  if (!session || typeof session !== 'object' || typeof session.version !== 'number') {
    throw new UnreadableDataError(`${file} changes session ${id}, which data.json does not hold.`, 'Restore data.json from a backup and move the journal aside.');
  }
  if (session.version >= patch.to) return;
  if (session.version !== patch.from) {
    throw new UnreadableDataError(
      `${file} changes session ${id} from version ${patch.from}, but data.json holds version ${session.version}.`,
      'Restore data.json from a backup and move the journal aside.',
    );
  }
  const next: Plain = { ...session };
  for (const [key, value] of Object.entries(patch.set ?? {})) next[key] = value;
  for (const key of patch.unset ?? []) delete next[key];
  for (const [key, [dropped, items]] of Object.entries(patch.ends ?? {})) {
    const was = Array.isArray(session[key]) ? (session[key] as unknown[]) : [];
    next[key] = [...was.slice(dropped), ...items];
  }
  for (const [key, [front, back, items]] of Object.entries(patch.splices ?? {})) {
    const was = Array.isArray(session[key]) ? (session[key] as unknown[]) : [];
    next[key] = [...was.slice(0, front), ...items, ...was.slice(was.length - back)];
  }
  next.version = patch.to;
  sessions[id] = next;
}
