import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import request from 'supertest';
import { buildApp, createSession } from './support/app.js';

const join = async (app: Awaited<ReturnType<typeof buildApp>>['app'], id: string, name: string) =>
  request(app).post(`/api/sessions/${id}/singers`).send({ name });

describe('names must render as typed', () => {
  const refused: [string, string, RegExp][] = [
    ['U+3164 HANGUL FILLER alone', '\u3164', /^name must contain at least one visible character$/],
    ['U+115F HANGUL CHOSEONG FILLER alone', '\u115f\u115f', /^name must contain at least one visible character$/],
    ['U+034F COMBINING GRAPHEME JOINER alone', '\u034f', /^name must contain at least one visible character$/],
    ['a name hiding tag characters', 'Ann\u{E0041}\u{E0042}', /^name must not contain invisible or formatting characters$/],
    ['only tag characters', '\u{E0041}\u{E0042}\u{E0043}', /^name must contain at least one visible character$/],
    ['a Hangul filler beside letters', 'Bo\u3164b', /^name must not contain invisible or formatting characters$/],
    ['a right-to-left override', 'Eve\u202egnp.exe', /^name must not contain control characters$/],
    ['a right-to-left isolate', '\u2067Eve', /^name must not contain control characters$/],
    ['an arabic letter mark', 'Eve\u061c', /^name must not contain invisible or formatting characters$/],
    ['a zero-width joiner between letters', 'A\u200dB', /^name must not contain invisible or formatting characters$/],
    ['five combining marks on one letter', 'Z\u0301\u0302\u0303\u0304\u0305oe', /^name must not stack more than 4 combining marks on one character$/],
    ['half of a surrogate pair', 'Ann\ud83d', /^name must not contain broken characters \(half of a surrogate pair\)$/],
    ['a low surrogate alone', '\udc00Bo', /^name must not contain broken characters \(half of a surrogate pair\)$/],
  ];
  for (const [what, name, message] of refused) {
    it(`POST /api/sessions/:id/singers refuses ${what} with 400 invalid_input`, async (t) => {
      const { app } = await buildApp(t);
      const { id } = await createSession(app);
      const res = await join(app, id, name);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.error.code, 'invalid_input');
      assert.equal(res.body.error.field, 'name');
      assert.match(res.body.error.message, message);
    });
  }

  const accepted: [string, string][] = [
    ['a family emoji joined with ZWJ', '👨\u200d👩\u200d👧'],
    ['a thumbs up with a skin tone', '👍🏽'],
    ['a skin-toned ZWJ sequence', '👩🏽\u200d🚀 Jo'],
    ['a rainbow flag (VS16 before the ZWJ)', '🏳️\u200d🌈'],
    ['a heart with VS16', 'Ana ❤️'],
    ['accents and four combining marks', 'Zoë Ne\u0301\u0302\u0303\u0304'],
    ['Hangul', '김민지'],
  ];
  for (const [what, name] of accepted) {
    it(`POST /api/sessions/:id/singers accepts ${what}`, async (t) => {
      const { app } = await buildApp(t);
      const { id } = await createSession(app);
      const res = await join(app, id, name);
      assert.equal(res.status, 201, JSON.stringify(res.body));
    });
  }

  it('POST /api/sessions refuses a blank host name the same way', async (t) => {
    const { app } = await buildApp(t);
    const res = await request(app).post('/api/sessions').send({ name: '\u3164\u3164' });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 'invalid_input');
    assert.equal(res.body.error.message, 'name must contain at least one visible character');
  });
});
