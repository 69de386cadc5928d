import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createDatabase } from './database.ts';
import { migrationUrl, readDatabase } from './database-urls.ts';

const PRIMARY = 'postgres://imgpipe:imgpipe@127.0.0.1:6432/imgpipe';
const REPLICA = 'postgres://imgpipe:imgpipe@127.0.0.1:5433/imgpipe';
const DIRECT = 'postgres://imgpipe:imgpipe@127.0.0.1:5432/imgpipe';

test('migrations go to the primary itself when IMGPIPE_DATABASE_DIRECT_URL is set, else to IMGPIPE_DATABASE_URL', () => {
  assert.equal(migrationUrl({ databaseUrl: PRIMARY, databaseDirectUrl: DIRECT }), DIRECT);
  assert.equal(migrationUrl({ databaseUrl: PRIMARY }), PRIMARY);
  assert.equal(migrationUrl({ databaseUrl: PRIMARY, databaseReadUrl: REPLICA }), PRIMARY, 'never the replica');
});

test("searches get the primary's own pool without a read URL, a pool of their own with one", async () => {
  // Pools connect lazily: nothing here opens a connection.
  const primary = createDatabase({ url: PRIMARY, poolSize: 1 });
  const same = readDatabase({ databaseUrl: PRIMARY }, primary);
  assert.equal(same, primary);
  const replica = readDatabase({ databaseUrl: PRIMARY, databaseReadUrl: REPLICA }, primary);
  assert.notEqual(replica, primary);
  await Promise.all([primary.destroy(), replica.destroy()]);
});
