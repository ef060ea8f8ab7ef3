// A change that loses the race to another instance's change of the same session is made again on
// the newer state for a while (CONFLICT_BUDGET_MS), and only then answers 503 busy. On one
// database this is what keeps a busy room's guests from seeing errors; the handlers here lose on
// purpose, as the PostgreSQL store makes them lose (StoreConflictError before anything is sent).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import express from 'express';
import { pino } from 'pino';
import request from 'supertest';
import { errorHandler } from '../server/errors.js';
import { CONFLICT_BUDGET_MS, retryOnConflict } from '../server/http/lookup.js';
import { StoreConflictError } from '../server/store/index.js';

function appLosing(times: number, budgetMs?: number): { app: express.Express; tries: () => number } {
  let tries = 0;
  const app = express();
  app.post(
    '/change',
    retryOnConflict((_req, res) => {
      tries += 1;
      if (tries <= times) throw new StoreConflictError('ABC123');
      res.status(201).json({ tries });
    }, budgetMs),
  );
  app.use(errorHandler(pino({ level: 'silent' })));
  return { app, tries: () => tries };
}

describe('a change that loses to another instance', () => {
  it('is made again until it holds, past the eight tries it used to get', async () => {
    const { app, tries } = appLosing(20);
    const res = await request(app).post('/change').expect(201);
    assert.equal(res.body.tries, 21);
    assert.equal(tries(), 21);
  });

  it('answers 503 busy with Retry-After once the budget is spent, and tries no more', async () => {
    const { app, tries } = appLosing(Number.POSITIVE_INFINITY, 150);
    const started = performance.now();
    const res = await request(app).post('/change').expect(503);
    assert.equal(res.body.error.code, 'busy');
    assert.equal(res.headers['retry-after'], '1');
    assert.ok(performance.now() - started >= 150);
    const after = tries();
    assert.ok(after > 1);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(tries(), after, 'nothing runs after the answer');
  });

  it('gives a busy room two seconds by default', () => {
    assert.equal(CONFLICT_BUDGET_MS, 2000);
  });
});
