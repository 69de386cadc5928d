import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ImgpipeError } from '@imgpipe/core';
import { toDatabaseError } from './database-errors.ts';

function pgError(message: string, code?: string): Error {
  return Object.assign(new Error(message), code === undefined ? {} : { code });
}

test('a PostgreSQL that went away or is restarting is DATABASE_UNAVAILABLE (retried), whatever node-postgres says', () => {
  for (const error of [
    pgError('terminating connection due to administrator command', '57P01'),
    pgError('the database system is shutting down', '57P03'),
    pgError('the database system is starting up', '57P03'),
    pgError('connection failure', '08006'),
    pgError('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
    pgError('Connection terminated unexpectedly'),
    pgError('Client has encountered a connection error and is not queryable'),
    pgError('timeout exceeded when trying to connect'),
  ]) {
    const mapped = toDatabaseError(error);
    assert.ok(mapped instanceof ImgpipeError, error.message);
    assert.equal(mapped.code, 'DATABASE_UNAVAILABLE', error.message);
    assert.equal(mapped.retriable, true);
  }
});

test('a serialization failure asks for a retry; a constraint violation or a bug is left as it is', () => {
  assert.equal(
    (toDatabaseError(pgError('could not serialize access', '40001')) as ImgpipeError).code,
    'STAGE_TRANSIENT',
  );
  const duplicate = pgError('duplicate key value violates unique constraint', '23505');
  assert.equal(toDatabaseError(duplicate), duplicate);
  const bug = new TypeError("Cannot read properties of undefined (reading 'id')");
  assert.equal(toDatabaseError(bug), bug);
});
