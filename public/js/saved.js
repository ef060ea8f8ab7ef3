// @ts-check
/**
 * What this device remembers per session (localStorage): the host key, and the guest's name and key
 * with the night they belong to, so a reload or a second scan of the QR code keeps the same singer
 * and a key from last week's night is recognised as such. Private browsing may refuse storage: the
 * page then still works, it just forgets on reload.
 */

/**
 * @typedef {{ key: string, name: string, savedAt: string }} HostEntry
 * @typedef {{ key: string, singerId: string, name: string, sessionName: string, night?: number, savedAt: string }} GuestEntry
 *   `night` is missing in entries saved before sessions had nights.
 */

const PREFIX = 'karaoke:';
/** @type {Map<string, string>} */
const memory = new Map();

/** @param {string} name */
function read(name) {
  try {
    return localStorage.getItem(PREFIX + name);
  } catch {
    return memory.get(name) ?? null;
  }
}

/** @param {string} name @param {string | null} value */
function write(name, value) {
  try {
    if (value === null) localStorage.removeItem(PREFIX + name);
    else localStorage.setItem(PREFIX + name, value);
  } catch {
    if (value === null) memory.delete(name);
    else memory.set(name, value);
  }
}

/** @param {string} name */
function readJson(name) {
  try {
    const value = JSON.parse(read(name) ?? 'null');
    return value && typeof value === 'object' ? value : null;
  } catch {
    return null;
  }
}

/** @param {string} sessionId @returns {HostEntry | null} */
export function hostEntry(sessionId) {
  const entry = readJson(`host:${sessionId}`);
  return entry && typeof entry.key === 'string' ? entry : null;
}

/** @param {string} sessionId @param {{ key: string, name: string }} entry */
export function saveHost(sessionId, { key, name }) {
  write(`host:${sessionId}`, JSON.stringify({ key, name, savedAt: new Date().toISOString() }));
}

/** @param {string} sessionId @returns {GuestEntry | null} */
export function guestEntry(sessionId) {
  const entry = readJson(`guest:${sessionId}`);
  return entry && typeof entry.key === 'string' && typeof entry.singerId === 'string' ? entry : null;
}

/** @param {string} sessionId @param {Omit<GuestEntry, 'savedAt'>} entry */
export function saveGuest(sessionId, entry) {
  write(`guest:${sessionId}`, JSON.stringify({ ...entry, savedAt: new Date().toISOString() }));
}

/** @param {string} sessionId */
export function forgetGuest(sessionId) {
  write(`guest:${sessionId}`, null);
}

/** A night that no longer exists: nothing of it is kept on this device. @param {string} sessionId */
export function forgetSession(sessionId) {
  for (const name of [`host:${sessionId}`, `guest:${sessionId}`, `flag:saved:${sessionId}`]) write(name, null);
}

/** @param {string} name */
export function flag(name) {
  return read(`flag:${name}`) === '1';
}

/** @param {string} name */
export function setFlag(name) {
  write(`flag:${name}`, '1');
}

/**
 * Sessions this device hosts or sings in, newest first, for the landing page.
 * @returns {{ sessionId: string, role: 'host' | 'guest', name: string, savedAt: string }[]}
 */
export function rememberedSessions() {
  /** @type {string[]} */
  let names = [];
  try {
    for (let i = 0; i < localStorage.length; i += 1) {
      const name = localStorage.key(i);
      if (name?.startsWith(PREFIX)) names.push(name.slice(PREFIX.length));
    }
  } catch {
    names = [...memory.keys()];
  }
  const found = [];
  for (const name of names) {
    const match = /^(host|guest):([2-9A-Z]{6,8})$/.exec(name);
    if (!match) continue;
    const role = /** @type {'host' | 'guest'} */ (match[1]);
    const sessionId = /** @type {string} */ (match[2]);
    const entry = role === 'host' ? hostEntry(sessionId) : guestEntry(sessionId);
    if (!entry) continue;
    const label = String('sessionName' in entry ? entry.sessionName : entry.name);
    found.push({ sessionId, role, name: label || sessionId, savedAt: entry.savedAt ?? '' });
  }
  return found.sort((a, b) => b.savedAt.localeCompare(a.savedAt));
}
