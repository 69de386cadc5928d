/**
 * The API's read pool has a circuit breaker of its own (`postgres-read`): a replica outage opens it alone, searches
 * fall back to the primary, and uploads and GET /v1/images/{id} (the primary through PgBouncer) are untouched.
 * Against the real local stack: the replica (`pg_basebackup`, hot standby) is stopped mid-test and started again.
 *
 * What shows which server answered, independent of the code under test:
 * - images uploaded while the replica is stopped can only be listed by the primary;
 * - once the replica is back and its WAL replay is paused, an image uploaded after the pause is found by GET (the
 *   primary) but missing from search, which lists the earlier ones: search answers from the replica again.
 * The replica is restored in the after hook (stopped again if this file started it).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { loadApiConfig } from '@imgpipe/http-api';
import { resolveStackLayout, stackDown, stackStatus, stackUp } from '@imgpipe/local-stack';
import { waitFor } from '../support/kafka.ts';
import { bearer, DOG_JPEG, startTestApi, type TestApi, testTenant, tokenFor, uniqueJpeg } from './support.ts';

const env = { ...process.env, IMGPIPE_STACK_REPLICA: 'true' };
const layout = resolveStackLayout(env);
const URLS = {
  IMGPIPE_DATABASE_URL: layout.pgbouncer.url,
  IMGPIPE_DATABASE_DIRECT_URL: layout.postgres.url,
  IMGPIPE_DATABASE_READ_URL: layout.replica.url,
};
const OPEN_MS = 1_000;

/** psql as the postgres superuser on the replica (replay control needs it), over the local socket. */
function replicaSql(query: string): Promise<string> {
  const args = ['-X', '-A', '-t', '-p', String(layout.replica.port), '-d', layout.postgres.database, '-c', query];
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

describe('a replica outage opens the read breaker alone; searches fall back to the primary', () => {
  let replicaWasUp = false;
  let api: TestApi | undefined;
  const tenant = testTenant('read-breaker');

  before(async () => {
    replicaWasUp = (await stackStatus({ env })).services.some((s) => s.name === 'pg-replica' && s.up);
    const up = await stackUp({ env });
    assert.ok(up.ok, JSON.stringify(up.services.filter((service) => service.state === 'failed')));
    api = await startTestApi(
      {
        breakers: {
          failureThreshold: 2,
          openMs: OPEN_MS,
          redisTimeoutMs: 1_000,
          databaseTimeoutMs: 5_000,
          storageTimeoutMs: 30_000,
        },
      },
      loadApiConfig({ ...process.env, ...URLS }),
    );
  });

  after(async () => {
    await replicaSql('select pg_wal_replay_resume()').catch(() => undefined);
    if (api) await api.api.deps.db.deleteFrom('images').where('tenant_id', '=', tenant).execute();
    await api?.close();
    if (replicaWasUp) {
      const up = await stackUp({ env });
      assert.ok(up.ok, 'the replica is restored');
    } else {
      await stackDown({ env, only: ['pg-replica'] });
    }
  });

  const search = async () => {
    const response = await fetch(`${api!.url}/v1/images?limit=100`, { headers: bearer(tokenFor(tenant, 'viewer')) });
    assert.equal(response.status, 200, await response.clone().text());
    return ((await response.json()) as { items: { imageId: string }[] }).items.map((item) => item.imageId).sort();
  };
  const upload = async () => {
    const response = await fetch(`${api!.url}/v1/images?analyses=detect`, {
      method: 'POST',
      headers: { ...bearer(tokenFor(tenant)), 'content-type': 'image/jpeg' },
      body: uniqueJpeg(DOG_JPEG),
    });
    assert.equal(response.status, 202, await response.clone().text());
    const { imageId } = (await response.json()) as { imageId: string };
    const read = await fetch(`${api!.url}/v1/images/${imageId}`, { headers: bearer(tokenFor(tenant, 'viewer')) });
    assert.equal(read.status, 200, `GET /v1/images/${imageId} right after its upload`);
    return imageId;
  };
  /** imgpipe_circuit_breaker_state for one breaker: the state whose gauge is 1. */
  const breakerState = async (breaker: string) => {
    const text = await (await fetch(`${api!.url}/metrics`)).text();
    const states = [...text.matchAll(/^imgpipe_circuit_breaker_state\{([^}]*)\} (\d+)$/gm)]
      .filter(([, labels, value]) => labels?.includes(`breaker="${breaker}"`) && value === '1')
      .map(([, labels]) => /state="([^"]+)"/.exec(labels ?? '')?.[1]);
    assert.equal(states.length, 1, `${breaker}: ${JSON.stringify(states)}`);
    return states[0];
  };

  test('replica stopped: uploads 202 and readable, searches answered by the primary, only postgres-read open; restarted: searches from the replica again', async () => {
    assert.equal(await breakerState('postgres-read'), 'closed');
    const down = await stackDown({ env, only: ['pg-replica'] });
    assert.ok(
      down.some((d) => d.name === 'pg-replica' && (d.outcome === 'stopped' || d.outcome === 'killed')),
      JSON.stringify(down),
    );

    // While the replica is away nothing it holds can list these: a search that lists them asked the primary.
    const during = [await upload(), await upload()].sort();
    for (let index = 0; index < 3; index += 1) assert.deepEqual(await search(), during);
    assert.equal(await breakerState('postgres-read'), 'open');
    assert.equal(await breakerState('postgres'), 'closed');

    const ready = await fetch(`${api!.url}/readyz`);
    const readiness = (await ready.json()) as {
      status: string;
      checks: Record<string, { ok: boolean }>;
      breakers: Record<string, { open: number; circuit?: { state: string } }>;
    };
    assert.equal(ready.status, 200, JSON.stringify(readiness));
    assert.equal(readiness.status, 'degraded');
    assert.equal(readiness.checks['postgres-read']?.ok, false);
    assert.equal(readiness.checks['postgres']?.ok, true);
    assert.equal(readiness.breakers['postgres-read']?.circuit?.state, 'open');
    assert.equal(readiness.breakers['postgres']?.circuit?.state, 'closed');

    // The circuit open: uploads and reads of one image still work; search still answers.
    const alsoDuring = await upload();
    assert.deepEqual(await search(), [...during, alsoDuring].sort());
    assert.equal(await breakerState('postgres'), 'closed');

    const up = await stackUp({ env });
    assert.ok(up.ok, JSON.stringify(up.services.filter((service) => service.state === 'failed')));
    const all = [...during, alsoDuring].sort();
    // After OPEN_MS a search probes the replica (half-open); it answers, the circuit closes.
    await waitFor(
      'the read breaker to close once the replica is back',
      async () =>
        ((await search()).length === all.length && (await breakerState('postgres-read')) === 'closed') || undefined,
      60_000,
      250,
    );
    const readyAgain = (await (await fetch(`${api!.url}/readyz`)).json()) as { status: string };
    assert.equal(readyAgain.status, 'ok');

    // Replay paused: an image uploaded now is on the primary only. Search lists the earlier ones but not it.
    await replicaSql('select pg_wal_replay_pause()');
    await waitFor('replay to pause', async () =>
      (await replicaSql('select pg_get_wal_replay_pause_state()')) === 'paused' ? true : undefined,
    );
    const afterPause = await upload();
    assert.deepEqual(await search(), all, 'search answered by the paused replica');
    await replicaSql('select pg_wal_replay_resume()');
    await waitFor(
      'search to list the last image once replay resumes',
      async () => ((await search()).includes(afterPause) ? true : undefined),
      60_000,
      20,
    );
  });
});
