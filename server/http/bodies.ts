import { ECDH } from 'node:crypto';
import type { Request } from 'express';
import { z } from 'zod';
import { Errors } from '../errors.js';
import { invisibleTextProblem } from '../lib/text.js';
import { FORBIDDEN_CHARACTERS as FORBIDDEN, OUTCOMES, REQUEST_MODES, ROTATIONS, STATUSES } from '../model/session.js';

/** The request bodies the API takes, and the one way a body is checked against them. */

const text = (field: string, min: number, max: number) =>
  z
    .string({ error: `${field} must be text` })
    .trim()
    .min(min, { error: min === 1 ? `${field} must not be empty` : `${field} is too short` })
    .max(max, { error: `${field} must be at most ${max} characters` })
    .refine((s) => !FORBIDDEN.test(s), { error: `${field} must not contain control characters`, abort: true })
    .superRefine((s, ctx) => {
      const problem = invisibleTextProblem(s);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `${field} ${problem}` });
    });

export const nameField = text('name', 1, 40);
const title = text('title', 1, 120);
const artist = text('artist', 0, 80);
const link = z
  .url({ protocol: /^https?$/, error: 'link must be an http(s) URL' })
  .max(500, { error: 'link must be at most 500 characters' })
  .refine((s) => !FORBIDDEN.test(s), { error: 'link must not contain control characters' });

export const CreateSessionBody = z.strictObject({ name: nameField });

export const UpdateSessionBody = z
  .strictObject({
    name: nameField.optional(),
    status: z.enum(STATUSES).optional(),
    rotation: z.enum(ROTATIONS).optional(),
    requests: z.enum(REQUEST_MODES).optional(),
    joinsOpen: z.boolean({ error: 'joinsOpen must be true or false' }).optional(),
    maxQueuedPerSinger: z.int({ error: 'maxQueuedPerSinger must be a whole number' }).min(1).max(20).optional(),
    endsAt: z.iso
      .datetime({ offset: true, error: 'endsAt must be an ISO 8601 date-time, or null' })
      .transform((s) => new Date(s).toISOString())
      .nullable()
      .optional(),
  })
  .refine((body) => Object.keys(body).length > 0, { error: 'nothing to change' });

export const JoinBody = z.strictObject({ name: nameField });

export const RequestBody = z
  .strictObject({
    title: title.optional(),
    artist: artist.optional(),
    link: link.optional(),
    singerName: nameField.optional(),
    /** The host adds a song for a singer already in (a guest who joined by phone). */
    singerId: z.string({ error: 'singerId must be text' }).regex(/^[A-Za-z0-9_-]{6,32}$/, { error: 'singerId is not a singer id' }).optional(),
    songId: z.string({ error: 'songId must be text' }).regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'songId is not a songbook id' }).optional(),
  })
  .refine((b) => (b.title === undefined) !== (b.songId === undefined), {
    error: 'give either a song title or a songId from the songbook',
    path: ['title'],
  })
  .refine((b) => b.singerName === undefined || b.singerId === undefined, { error: 'name the walk-in (singerName) or pick a singer (singerId), not both', path: ['singerId'] });

export const MoveBody = z.strictObject({
  position: z.int({ error: 'position must be a whole number (1 is next up)' }).min(1).max(100_000),
});

export const NextBody = z.strictObject({
  outcome: z.enum(OUTCOMES).optional(),
  expectedCurrentId: z.string().max(64).nullable().optional(),
});

const isP256Point = (key: string): boolean => {
  try {
    // Throws for a point that is not on the curve.
    ECDH.convertKey(Buffer.from(key, 'base64url'), 'prime256v1');
    return true;
  } catch {
    return false;
  }
};
const base64url = /^[A-Za-z0-9_-]+={0,2}$/;

/** What PushSubscription.toJSON() gives; `expirationTime` is accepted and not kept (browsers send null). */
export const PushSubscriptionBody = z.strictObject({
  endpoint: z.string({ error: 'endpoint must be text' }).min(1).max(2048, { error: 'endpoint must be at most 2048 characters' }),
  expirationTime: z.number().nullable().optional(),
  keys: z.strictObject({
    p256dh: z
      .string({ error: 'keys.p256dh must be text' })
      .max(128)
      .refine((k) => base64url.test(k) && Buffer.from(k, 'base64url').length === 65 && isP256Point(k), {
        error: 'keys.p256dh must be the subscription\'s P-256 public key (base64url)',
      }),
    auth: z
      .string({ error: 'keys.auth must be text' })
      .max(64)
      .refine((k) => base64url.test(k) && Buffer.from(k, 'base64url').length === 16, {
        error: 'keys.auth must be the subscription\'s 16-byte auth secret (base64url)',
      }),
  }),
});

/** A request's JSON body: an empty one is `{}` when it says it is JSON, and missing otherwise. */
export const jsonBody = (req: Request): unknown => req.body ?? (req.is('application/json') ? {} : undefined);

/** Check a body against a schema; the first problem becomes one 400 naming the field. */
export function parse<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  if (body === undefined) throw Errors.invalidInput('Send a JSON body with Content-Type: application/json.');
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') throw Errors.invalidInput(`unknown field ${issue.keys.join(', ')}`);
  const field = issue.path.length > 0 ? issue.path.join('.') : undefined;
  throw Errors.invalidInput(issue.message, field);
}
