import type { StoredSession } from './session.js';

export interface SessionLinks {
  joinUrl: string;
  qrUrl: string;
  displayUrl: string;
}

/** The addresses of a session: PUBLIC_URL when set, else the origin the session was created from. */
export function sessionLinks(session: Pick<StoredSession, 'id' | 'origin'>, publicUrl: string | undefined): SessionLinks {
  const origin = publicUrl ?? session.origin;
  return {
    joinUrl: `${origin}/s/${session.id}`,
    qrUrl: `${origin}/qr-codes/${session.id}.png`,
    displayUrl: `${origin}/display/${session.id}`,
  };
}

/** The host's control page. The key is in the fragment, so it never reaches a server or proxy log. */
export function hostUrl(session: Pick<StoredSession, 'id' | 'origin'>, publicUrl: string | undefined, hostKey: string): string {
  return `${publicUrl ?? session.origin}/host/${session.id}#key=${hostKey}`;
}
