import { customAlphabet, nanoid } from 'nanoid';
import { SESSION_ID_ALPHABET, SESSION_ID_LENGTH } from '../model/session.js';

/** A session code people type: no look-alike characters. */
export const newSessionId = customAlphabet(SESSION_ID_ALPHABET, SESSION_ID_LENGTH);
/** Singers and requests. */
export const newItemId = (): string => nanoid(12);
