/**
 * PostgreSQL as production runs it: the API and the results service reach the primary through PgBouncer in
 * transaction pooling (IMGPIPE_DATABASE_URL), migrate over the primary itself (IMGPIPE_DATABASE_DIRECT_URL), and the
 * API serves searches from a streaming replica (IMGPIPE_DATABASE_READ_URL). Against the real local stack: PgBouncer
 * and a replica from `pg_basebackup` (started here when not running, and stopped again if this file started it).
 *
 * What shows which server answered, independent of the code under test:
 * - with WAL replay paused on the replica, images uploaded and completed on the primary are found one by one
 *   (GET /v1/images/{id}, read-your-writes) but missing from search; once replay resumes, search lists them;
 * - the replica's own statistics (pg_stat_user_tables) count the searches' scans of `images`, and its
 *   pg_stat_activity holds the API's read pool while the primary's does not;
 * - PgBouncer's console (SHOW STATS, SHOW POOLS, SHOW CLIENTS) counts the uploads' and the sink's transactions and
 *   lists the API and the results service as its clients.
 * It also prints the replication lag a client sees: from an image completing on the primary to search listing it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { loadApiConfig } from '@imgpipe/http-api';
import { resolveStackLayout, stackDown, stackUp } from '@imgpipe/local-stack';
import pg from 'pg';
import { bearer, DOG_JPEG, startTestApi, type TestApi, testTenant, tokenFor, uniqueJpeg } from '../api/support.ts';
import { waitFor } from '../support/kafka.ts';
import { type PipelineService, startServices, stopServices } from '../support/pipeline-services.ts';

const layout = resolveStackLayout({ ...process.env, IMGPIPE_STACK_REPLICA: 'true' });
const URLS = {
  IMGPIPE_DATABASE_URL: layout.pgbouncer.url,
  IMGPIPE_DATABASE_DIRECT_URL: layout.postgres.url,
  IMGPIPE_DATABASE_READ_URL: layout.replica.url,
};
const IMAGES = 2;
const TERMINAL = new Set(['completed', 'partial', 'failed']);

/** psql as the postgres superuser (replay control and pg_stat_replication need it), over the local socket. */
function superuserSql(port: number, query: string): Promise<string> {
  const args = ['-X', '-A', '-t', '-p', String(port), '-d', layout.postgres.database, '-c', query];
  const [command, commandArgs] =
    process.getuid?.() === 0
      ? ['runuser', ['-u', 'postgres', '--', 'psql', ...args]]
      : ['sudo', ['-n', '-u', 'postgres', 'psql', ...args]];
  return new Promise((resolve, reject) =>
    execFile(command, commandArgs as string[], (error, stdout, stderr) =>
      error ? reject(new Error(`${query}: ${stderr}`)) : resolve(stdout.trim()),
    ),
  );
}

async function query<T extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, application_name: 'imgpipe-replica-test' });
  await client.connect();
  try {
    // No parameters: PgBouncer's console speaks the simple query protocol only.
    return (values.length === 0 ? await client.query<T>(text) : await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** PgBouncer's counters for the application's database (SHOW STATS) and its pool (SHOW POOLS). */
async function bouncerStats() {
  const stats = await query<{ database: string; total_xact_count: string; total_query_count: string }>(
    layout.pgbouncer.adminUrl,
    'SHOW STATS',
  );
  const row = stats.find((entry) => entry.database === layout.postgres.database);
  assert.ok(row, 'PgBouncer has a pool for the database');
  return { xacts: Number(row.total_xact_count), queries: Number(row.total_query_count) };
}

/** Scans of `images` (sequential + index) counted by one server's own statistics. */
async function imageScans(url: string): Promise<number> {
  const [row] = await query<{ scans: string }>(
    url,
    "select coalesce(seq_scan, 0) + coalesce(idx_scan, 0) as scans from pg_stat_user_tables where relname = 'images'",
  );
  return Number(row?.scans ?? 0);
}

describe('the primary through PgBouncer, searches from a streaming replica', () => {
  let startedReplica = false;
  let services: Map<string, PipelineService> | undefined;
  let api: TestApi | undefined;
  const tenant = testTenant('replica');
  const imageIds: string[] = [];

  before(async () => {
    const up = await stackUp({ env: { ...process.env, IMGPIPE_STACK_REPLICA: 'true' } });
    assert.ok(up.ok, JSON.stringify(up.services.filter((service) => service.state === 'failed')));
    startedReplica = up.services.some((service) => service.name === 'pg-replica' && service.state === 'started');
    services = await startServices(['preprocess', 'detect', 'aggregate', 'results'], {
      ...URLS,
      // Nothing but this test's images moves the counters below.
      IMGPIPE_SWEEP_INTERVAL_MS: '3600000',
    });
    api = await startTestApi({}, loadApiConfig({ ...process.env, ...URLS }));
  });

  after(async () => {
    await superuserSql(layout.replica.port, 'select pg_wal_replay_resume()').catch(() => undefined);
    if (api) await api.api.deps.db.deleteFrom('images').where('tenant_id', '=', tenant).execute();
    await api?.close();
    if (services) await stopServices(services);
    if (startedReplica) await stackDown({ only: ['pg-replica'] });
  });

  const search = async (path = '') => {
    const response = await fetch(`${api!.url}/v1/images?limit=100${path}`, {
      headers: bearer(tokenFor(tenant, 'viewer')),
    });
    assert.equal(response.status, 200, await response.clone().text());
    return ((await response.json()) as { items: { imageId: string; status: string; labels: string[] }[] }).items;
  };
  const image = async (id: string) => {
    const response = await fetch(`${api!.url}/v1/images/${id}`, { headers: bearer(tokenFor(tenant, 'viewer')) });
    assert.equal(response.status, 200, `GET /v1/images/${id} right after its upload`);
    return (await response.json()) as { status: string };
  };
  const upload = async () => {
    const response = await fetch(`${api!.url}/v1/images?analyses=detect`, {
      method: 'POST',
      headers: { ...bearer(tokenFor(tenant)), 'content-type': 'image/jpeg' },
      body: uniqueJpeg(DOG_JPEG),
    });
    assert.equal(response.status, 202, await response.clone().text());
    const { imageId } = (await response.json()) as { imageId: string };
    imageIds.push(imageId);
    return imageId;
  };

  test('uploads and results go through PgBouncer; search misses them while replay is paused, then finds them', async () => {
    const bouncerBefore = await bouncerStats();
    await superuserSql(layout.replica.port, 'select pg_wal_replay_pause()');
    await waitFor('replay to pause', async () =>
      (await superuserSql(layout.replica.port, 'select pg_get_wal_replay_pause_state()')) === 'paused'
        ? true
        : undefined,
    );

    const ids = [];
    for (let index = 0; index < IMAGES; index += 1) ids.push(await upload());
    // Read-your-writes: each image is there at once, on the primary (or its Redis view), whatever the replica says.
    for (const id of ids) await image(id);
    for (const id of ids) {
      await waitFor(
        `${id} to finish`,
        async () => (TERMINAL.has((await image(id)).status) ? true : undefined),
        300_000,
      );
    }
    const finished = await query<{ id: string; status: string }>(
      layout.postgres.url,
      'select id, status from images where tenant_id = $1 order by id',
      [tenant],
    );
    assert.deepEqual(
      finished.map((row) => [row.id, row.status]),
      [...ids].sort().map((id) => [id, 'completed']),
      'the primary holds every image, completed',
    );

    // The replica stopped replaying before the first upload: its search cannot know these images.
    assert.deepEqual(await search(), [], 'search answered from the paused replica');
    assert.deepEqual(await search('&label=dog'), []);

    const bouncer = await bouncerStats();
    console.log(`PgBouncer SHOW STATS, database ${layout.postgres.database}: +${bouncer.xacts - bouncerBefore.xacts}
      transactions, +${bouncer.queries - bouncerBefore.queries} queries for ${IMAGES} images`);
    // At least the API's pending row and one sink transaction per image went through PgBouncer.
    assert.ok(bouncer.xacts - bouncerBefore.xacts >= 2 * IMAGES, JSON.stringify({ bouncerBefore, bouncer }));
    const pools = await query<{ database: string; pool_mode: string; sv_active: string; sv_idle: string }>(
      layout.pgbouncer.adminUrl,
      'SHOW POOLS',
    );
    const pool = pools.find((row) => row.database === layout.postgres.database);
    console.log(`PgBouncer SHOW POOLS: ${JSON.stringify(pool)}`);
    assert.equal(pool?.pool_mode, 'transaction');
    const clients = await query<{ database: string; application_name: string }>(
      layout.pgbouncer.adminUrl,
      'SHOW CLIENTS',
    );
    const names = new Set(
      clients.filter((row) => row.database === layout.postgres.database).map((row) => row.application_name),
    );
    assert.ok(names.has('imgpipe-api') && names.has('imgpipe-results'), `PgBouncer clients: ${[...names].join(', ')}`);

    await superuserSql(layout.replica.port, 'select pg_wal_replay_resume()');
    const listed = await waitFor(
      'search to list the images once replay resumes',
      async () => {
        const items = await search('&label=dog');
        return items.length === IMAGES && items.every((item) => item.status === 'completed') ? items : undefined;
      },
      60_000,
      20,
    );
    assert.deepEqual(listed.map((item) => item.imageId).sort(), [...ids].sort());
  });

  test("the replica's own statistics count the searches; the API's read pool is connected there, not to the primary", async () => {
    const replicaBefore = await imageScans(layout.replica.url);
    const SEARCHES = 5;
    for (let index = 0; index < SEARCHES; index += 1) await search(index % 2 === 0 ? '&label=dog' : '');
    // Backends publish their statistics when idle for a moment (PostgreSQL 15): poll until they show.
    const replicaAfter = await waitFor(
      'the replica to count the scans',
      async () => {
        const scans = await imageScans(layout.replica.url);
        return scans - replicaBefore >= SEARCHES ? scans : undefined;
      },
      60_000,
      250,
    );
    console.log(`replica pg_stat_user_tables(images): +${replicaAfter - replicaBefore} scans for ${SEARCHES} searches`);
    const readers = async (url: string) =>
      (
        await query<{ n: string }>(
          url,
          "select count(*) as n from pg_stat_activity where application_name = 'imgpipe-api-read'",
        )
      )[0]?.n;
    assert.ok(Number(await readers(layout.replica.url)) >= 1, "the API's read pool is connected to the replica");
    assert.equal(Number(await readers(layout.postgres.url)), 0, 'and not to the primary');
  });

  test('replication lag as a client sees it: from completed on the primary to listed by search', async () => {
    const samples: number[] = [];
    for (let index = 0; index < 3; index += 1) {
      const id = await upload();
      await waitFor(
        `${id} to finish`,
        async () => (TERMINAL.has((await image(id)).status) ? true : undefined),
        300_000,
        20,
      );
      const completedAt = performance.now();
      await waitFor(
        `${id} in search`,
        async () =>
          (await search()).some((item) => item.imageId === id && item.status === 'completed') ? true : undefined,
        60_000,
        5,
      );
      samples.push(performance.now() - completedAt);
    }
    const replayLag = await superuserSql(
      layout.postgres.port,
      "select coalesce(max(replay_lag)::text, 'idle') from pg_stat_replication where application_name = 'imgpipe-replica'",
    );
    console.log(
      `completed on the primary -> listed by search on the replica: ${samples.map((ms) => ms.toFixed(0)).join(', ')} ms` +
        ` (each includes one GET and one search round trip); pg_stat_replication replay_lag now: ${replayLag}`,
    );
    assert.equal(samples.length, 3);
  });
});
