// Kept apart from pg-store.ts so that naming a database in a log does not load the driver.

/** `postgres://user@host:port/db`, never the password: it goes into logs. */
export function describePgUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    const search = u.searchParams.get('sslmode');
    return `postgres://${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.host}${u.pathname}${search ? ` (sslmode=${search})` : ''}`;
  } catch {
    return 'postgres (an unparsable DATABASE_URL)';
  }
}
