import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ImgpipeError } from '@imgpipe/core';
import type { Database } from '@imgpipe/results';
import type { Kysely } from 'kysely';
import { DependencyBreakers } from './dependency-breakers.ts';
import { ReadPool } from './read-pool.ts';

// Stand-ins for the two pools: the work below only tells them apart.
const primary = { name: 'primary' } as unknown as Kysely<Database>;
const replica = { name: 'replica' } as unknown as Kysely<Database>;
const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5433'), { code: 'ECONNREFUSED' });
const nameOf = (db: Kysely<Database>) => (db as unknown as { name: string }).name;

function setup() {
  let clock = 0;
  const breakers = new DependencyBreakers(
    { failureThreshold: 2, openMs: 1_000, redisTimeoutMs: 1_000, databaseTimeoutMs: 1_000, storageTimeoutMs: 1_000 },
    () => clock,
  );
  const calls: string[] = [];
  let replicaDown = false;
  const work = async (db: Kysely<Database>) => {
    calls.push(nameOf(db));
    if (db === replica && replicaDown) throw refused();
    return nameOf(db);
  };
  return {
    breakers,
    calls,
    work,
    advance: (ms: number) => {
      clock += ms;
    },
    setReplicaDown: (down: boolean) => {
      replicaDown = down;
    },
  };
}

describe('ReadPool', () => {
  test('a replica that answers serves every search; the primary is not asked', async () => {
    const { breakers, calls, work } = setup();
    const reads = new ReadPool(primary, replica, breakers);
    assert.equal(await reads.run(work), 'replica');
    assert.deepEqual(calls, ['replica']);
  });

  test('a replica outage: the primary answers, only the read circuit opens, then the replica is skipped until it recovers', async () => {
    const { breakers, calls, work, advance, setReplicaDown } = setup();
    const reads = new ReadPool(primary, replica, breakers);
    setReplicaDown(true);
    assert.equal(await reads.run(work), 'primary');
    assert.equal(await reads.run(work), 'primary');
    assert.deepEqual(calls, ['replica', 'primary', 'replica', 'primary']);
    assert.equal(breakers.postgresRead.snapshot().state, 'open');
    assert.equal(breakers.postgres.snapshot().state, 'closed');

    calls.length = 0;
    assert.equal(await reads.run(work), 'primary');
    assert.deepEqual(calls, ['primary'], 'the open circuit fails fast: the replica is not tried');

    setReplicaDown(false);
    advance(1_000);
    calls.length = 0;
    assert.equal(await reads.run(work), 'replica', 'the half-open probe reaches the recovered replica');
    assert.equal(breakers.postgresRead.snapshot().state, 'closed');
    assert.deepEqual(calls, ['replica']);
  });

  test('a refusal that is not unavailability is answered as is, without asking the primary', async () => {
    const { breakers, calls } = setup();
    const reads = new ReadPool(primary, replica, breakers);
    const invalid = new ImgpipeError('REQUEST_INVALID', 'bad cursor');
    await assert.rejects(
      reads.run(async (db) => {
        calls.push(nameOf(db));
        throw invalid;
      }),
      (error) => error === invalid,
    );
    assert.deepEqual(calls, ['replica']);
    assert.equal(breakers.postgresRead.snapshot().consecutiveFailures, 0);
  });

  test('without a replica a search is a primary call: its failures count on the postgres circuit', async () => {
    const { breakers, calls } = setup();
    const reads = new ReadPool(primary, primary, breakers);
    assert.equal(reads.replicated, false);
    await assert.rejects(
      reads.run(async (db) => {
        calls.push(nameOf(db));
        throw refused();
      }),
      (error) => error instanceof ImgpipeError && error.code === 'DATABASE_UNAVAILABLE',
    );
    assert.deepEqual(calls, ['primary']);
    assert.equal(breakers.postgres.snapshot().consecutiveFailures, 1);
    assert.equal(breakers.postgresRead.snapshot().consecutiveFailures, 0);
  });

  test('the primary down as well: the search fails with DATABASE_UNAVAILABLE', async () => {
    const { breakers } = setup();
    const reads = new ReadPool(primary, replica, breakers);
    await assert.rejects(
      reads.run(async () => {
        throw refused();
      }),
      (error) => error instanceof ImgpipeError && error.code === 'DATABASE_UNAVAILABLE',
    );
    assert.equal(breakers.postgres.snapshot().consecutiveFailures, 1);
  });
});
