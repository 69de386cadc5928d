/**
 * Fault injection against the real local stack and the real processes: one `imgpipe dev` (every worker, the results
 * service and the API, supervised) serves the whole file, and each scenario uploads a small batch over HTTP, then
 * injects ONE fault while the batch is in flight: PostgreSQL restarted, Redis killed and restarted, the Kafka broker
 * killed and restarted, the schema registry killed and restarted, S3 frozen (SIGSTOP) for 30 s, a worker killed with
 * SIGKILL. The stack's faults are the shared ones of @imgpipe/local-stack (startFault; the soak script injects the
 * same). Every image must then complete with no manual step, with exactly the detection, face and text-line rows
 * `imgpipe analyze` finds in process for the same file (computed once, independently of the pipeline), and every
 * process must answer its health endpoint. While a dependency is down, the readiness of a process that needs it must
 * say so.
 *
 * It stops and kills services of the shared stack: run it under `flock /tmp/imgpipe-stack.lock`. Every service is
 * brought back (`imgpipe stack up`, idempotent) when its fault ends and after the file, whatever happened.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { STAGES } from '@imgpipe/contracts';
import { mintDevToken, DEV_JWT_SECRET } from '@imgpipe/http-api';
import { resolveStackLayout, restoreStack, type StackFault, startFault } from '@imgpipe/local-stack';
import { createDatabase } from '@imgpipe/results';
import { sql } from 'kysely';
import { devProcesses } from '../../apps/cli/src/service-registry.ts';
import { type RunningService, startService } from '../../apps/cli/src/supervisor.ts';
import { analyzeInProcess, ROW_TABLES, type RowCounts, storedRowCounts } from '../support/in-process-counts.ts';
import { endpoints, waitFor } from '../support/kafka.ts';
import { sharedPath } from '../support/shared.ts';

const RUN_ID = randomUUID().slice(0, 8);

/** Photos with objects and faces, documents with text: every result table gets rows. */
const FILES = [
  'photos/astronaut.png',
  'photos/person.jpg',
  'photos/dog.jpg',
  'photos/horses.jpg',
  'photos/kite.jpg',
  'photos/coffee.png',
  'documents/bw_text.png',
  'documents/page.png',
].map((name) => sharedPath('images', name));

/** `imgpipe dev` gives process i of its list the ops port 9464 + i: the stages in order, then results. */
// The processes imgpipe dev runs, in its order: it gives the i-th the operations port 9464 + i (the API comes last).
const PROCESSES = devProcesses({ api: false }).map((spec) => spec.name);
const opsPort = (name: string) => {
  const index = PROCESSES.indexOf(name);
  if (index < 0) throw new Error(`imgpipe dev runs no process ${name}`);
  return 9464 + index;
};

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Readiness of one process: its HTTP status and the body's dependency checks. */
async function readiness(port: number): Promise<{ status: number; body: Record<string, unknown> } | undefined> {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5_000) }).catch(
    () => undefined,
  );
  if (!response) return undefined;
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** imgpipe_messages_failed_total of one process for one error code (0 before the first such failure). */
async function failures(port: number, code: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let total = 0;
  for (const match of text.matchAll(/^imgpipe_messages_failed_total\{([^}]*)\} (\d+)$/gm)) {
    if (match[1]!.includes(`code="${code}"`)) total += Number(match[2]);
  }
  return total;
}

/** True when the process answers /readyz 503 naming `dependency` as failing (or its consumer out of its group). */
function reportsDown(ready: Awaited<ReturnType<typeof readiness>>, dependency: string): boolean {
  if (ready?.status !== 503) return false;
  const details = (ready.body['details'] ?? ready.body) as {
    checks?: Record<string, { ok: boolean }>;
    consumer?: string;
  };
  if (dependency === 'kafka') return details.checks?.['kafka']?.ok === false || details.consumer !== 'joined';
  return details.checks?.[dependency]?.ok === false;
}

describe('fault injection: one fault per scenario mid-batch, every image completes with the in-process results', () => {
  const layout = resolveStackLayout();
  const db = createDatabase({ url: endpoints.databaseUrl, poolSize: 2, onIdleError: () => {} });
  let expected: Map<string, RowCounts>;
  let dev: RunningService;
  const devLines: string[] = [];
  let apiUrl: string;
  const durations: Record<string, number> = {};

  /**
   * Injects one of the stack's faults, runs `during` while it lasts, then ends it: the service is brought back by
   * `stack up` (idempotent), also when the injection or `during` failed.
   */
  const duringFault = async (fault: StackFault, during: () => Promise<void>): Promise<void> => {
    let end: (() => Promise<void>) | undefined;
    try {
      end = await startFault(layout, fault);
      await during();
    } finally {
      await (end ?? restoreStack)();
    }
  };

  /** The pid of the worker `imgpipe dev` runs for a stage now (its child whose command line names the stage). */
  const workerPid = (stage: string): number | undefined => {
    const pid = dev.child.pid!;
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    for (const child of children) {
      try {
        const args = readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0');
        if (args.includes('--stage') && args[args.indexOf('--stage') + 1] === stage) return Number(child);
      } catch {
        // exited while we looked
      }
    }
    return undefined;
  };

  /** Every process answers: its liveness now, and its readiness once the stack is whole again. */
  const everyProcessReady = () =>
    waitFor(
      'every process of imgpipe dev ready',
      async () => {
        if (dev.child.exitCode !== null) throw new Error(`imgpipe dev exited:\n${devLines.slice(-30).join('\n')}`);
        // A process not ready throws, so that a timeout names it and what its readiness said.
        for (const name of PROCESSES) {
          const ready = await readiness(opsPort(name));
          if (ready?.status !== 200) throw new Error(`${name} not ready: ${JSON.stringify(ready?.body)}`);
        }
        const api = await fetch(`${apiUrl}/readyz`).catch(() => undefined);
        if (!api?.ok) throw new Error(`the API not ready: ${api ? await api.text() : 'no answer'}`);
        return true;
      },
      180_000,
      500,
    );

  before(async () => {
    for (const file of FILES) readFileSync(file); // the fixtures are there
    expected = await analyzeInProcess(FILES, { IMGPIPE_INFERENCE_THREADS: '1' });
    for (const kind of ROW_TABLES) {
      assert.ok(
        [...expected.values()].some((counts) => counts[kind] > 0),
        `the files give ${kind} rows in process, so the comparison means something`,
      );
    }
    const apiPort = await freePort();
    apiUrl = `http://127.0.0.1:${apiPort}`;
    dev = startService(
      {
        name: 'dev',
        args: ['dev', '--json-logs'],
        env: {
          IMGPIPE_MODELS_DIR: sharedPath('models'),
          IMGPIPE_API_PORT: String(apiPort),
          IMGPIPE_LOG_LEVEL: 'info',
          IMGPIPE_VISION_WORKERS: '1',
          IMGPIPE_INFERENCE_THREADS: '1',
          // A killed worker's partitions move after the session timeout: short here, as a fault test wants.
          IMGPIPE_KAFKA_SESSION_TIMEOUT_MS: '10000',
          IMGPIPE_KAFKA_HEARTBEAT_INTERVAL_MS: '1000',
          IMGPIPE_SHUTDOWN_DEADLINE_MS: '10000',
        },
      },
      (_name, line) => {
        devLines.push(line);
        if (devLines.length > 5_000) devLines.splice(0, 1_000);
      },
    );
    await everyProcessReady();
  });

  after(async () => {
    try {
      await dev?.stop(60_000);
    } finally {
      await restoreStack();
      await db.destroy();
      console.log(`fault scenarios (s): ${JSON.stringify(durations)}`);
    }
  });

  async function upload(tenant: string): Promise<{ file: string; imageId: string }[]> {
    const token = mintDevToken({ tenant, roles: ['uploader'], secret: DEV_JWT_SECRET });
    const uploaded: { file: string; imageId: string }[] = [];
    for (const file of FILES) {
      const response = await fetch(`${apiUrl}/v1/images`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': file.endsWith('.png') ? 'image/png' : 'image/jpeg',
        },
        body: readFileSync(file),
      });
      const body = (await response.json()) as { imageId?: string };
      assert.equal(response.status, 202, `upload of ${file}: ${JSON.stringify(body)}`);
      uploaded.push({ file, imageId: body.imageId! });
    }
    return uploaded;
  }

  const statuses = async (ids: string[]) => {
    const { rows } = await sql<{ status: string; n: number }>`
      select status, count(*)::int as n from images where id = any(${ids}::uuid[]) group by status`.execute(db);
    return Object.fromEntries(rows.map((row) => [row.status, row.n])) as Record<string, number>;
  };

  async function assertRowsMatchInProcess(uploaded: { file: string; imageId: string }[]): Promise<void> {
    const stored = await storedRowCounts(
      db,
      uploaded.map((entry) => entry.imageId),
    );
    for (const { file, imageId } of uploaded) {
      const local = expected.get(file);
      assert.ok(local, `${file} was analysed in process`);
      assert.deepEqual(stored(imageId), local, `${file}: rows in PostgreSQL against imgpipe analyze in process`);
    }
  }

  /** The processes `imgpipe dev` has restarted so far, in order (its log says `<name> restarted (restart #n…)`). */
  const restartsSoFar = () =>
    devLines.flatMap((line) => {
      const match = /\b([a-z-]+) restarted \(restart #/.exec(line);
      return match ? [match[1]!] : [];
    });

  /**
   * Uploads the batch, waits until it is in flight, runs the fault, then requires every image COMPLETED with the
   * in-process rows, every process ready again, and no process restarted but those the scenario killed itself: a
   * dependency going away must never kill a process.
   */
  async function scenario(name: string, fault: () => Promise<void>, killed: readonly string[] = []): Promise<void> {
    const restartsBefore = restartsSoFar().length;
    const started = performance.now();
    const uploaded = await upload(`faults-${name}-${RUN_ID}`);
    const ids = uploaded.map((entry) => entry.imageId);
    await waitFor(
      'the batch in flight',
      async () => {
        const { rows } = await sql<{ n: number }>`
          select count(*)::int as n from image_stages
          where image_id = any(${ids}::uuid[]) and stage = 'preprocess' and status <> 'pending'`.execute(db);
        return rows[0]!.n > 0 ? true : undefined;
      },
      120_000,
      50,
    );
    const inFlightAt = performance.now();
    const before = await statuses(ids);
    assert.ok((before['completed'] ?? 0) < ids.length, `the fault lands mid-batch (${JSON.stringify(before)})`);
    await fault();
    const restoredAt = performance.now();
    const settled = await waitFor(
      `${ids.length} images to settle after ${name}`,
      async () => {
        const now = await statuses(ids).catch(() => undefined);
        return now && (now['pending'] ?? 0) === 0 && Object.values(now).reduce((a, b) => a + b, 0) === ids.length
          ? now
          : undefined;
      },
      240_000,
      500,
    );
    assert.deepEqual(settled, { completed: ids.length }, `every image completed after ${name}`);
    await assertRowsMatchInProcess(uploaded);
    await everyProcessReady();
    assert.deepEqual(
      [...new Set(restartsSoFar().slice(restartsBefore))].sort(),
      [...killed].sort(),
      `processes restarted during ${name} (only those the scenario killed may be)`,
    );
    const seconds = (from: number, to: number) => Math.round((to - from) / 100) / 10;
    const done = performance.now();
    durations[name] = seconds(started, done);
    console.log(
      `${name}: in flight after ${seconds(started, inFlightAt)} s, fault and restore ${seconds(inFlightAt, restoredAt)} s, settled and checked ${seconds(restoredAt, done)} s`,
    );
  }

  /** Waits until `process` reports `dependency` down on /readyz: readiness tells an operator what is wrong. */
  const waitReportsDown = (process_: string, dependency: string) =>
    waitFor(
      `${process_} readiness to report ${dependency} down`,
      async () => (reportsDown(await readiness(opsPort(process_)), dependency) ? true : undefined),
      60_000,
      200,
    );

  /**
   * While `dependency` is down the API stays alive (/healthz 200) and its readiness names the dependency as failing:
   * 503 for those it cannot serve without, `degraded` for Redis (reads fall back to PostgreSQL).
   */
  const waitApiReportsDown = (dependency: 'postgres' | 'redis' | 'kafka' | 's3') =>
    waitFor(
      `the API's readiness to report ${dependency} down while it stays alive`,
      async () => {
        const live = await fetch(`${apiUrl}/healthz`, { signal: AbortSignal.timeout(5_000) });
        assert.equal(live.status, 200, 'the API answers its liveness probe during the fault');
        const ready = await fetch(`${apiUrl}/readyz`, { signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
        if (!ready) return undefined;
        const body = (await ready.json()) as { status: string; checks: Record<string, { ok: boolean }> };
        const expected = dependency === 'redis' ? 200 : 503;
        return ready.status === expected && body.checks[dependency]?.ok === false ? true : undefined;
      },
      60_000,
      250,
    );

  test('PostgreSQL restarted mid-batch', async () => {
    await scenario('postgres-restart', async () => {
      const before = await failures(opsPort('results'), 'DATABASE_UNAVAILABLE');
      await duringFault('postgres-restart', async () => {
        await Promise.all([waitReportsDown('results', 'postgres'), waitApiReportsDown('postgres')]);
        // The outage met work: the results service failed to write, and will retry rather than dead-letter.
        await waitFor(
          'the results service to meet the outage',
          async () => ((await failures(opsPort('results'), 'DATABASE_UNAVAILABLE')) > before ? true : undefined),
          60_000,
          200,
        );
      });
    });
  });

  test('Redis killed and restarted mid-batch', async () => {
    await scenario('redis-kill', async () => {
      const met = async () =>
        (await failures(opsPort('aggregate'), 'CACHE_UNAVAILABLE')) +
        (await failures(opsPort('results'), 'CACHE_UNAVAILABLE'));
      const before = await met();
      await duringFault('redis-kill', async () => {
        await Promise.all([
          waitReportsDown('aggregate', 'redis'),
          waitReportsDown('results', 'redis'),
          waitApiReportsDown('redis'),
        ]);
        // The outage met work (aggregate's join or the results cache), which must be retried, not dead-lettered.
        await waitFor(
          'work to meet the Redis outage',
          async () => ((await met()) > before ? true : undefined),
          60_000,
          200,
        );
      });
    });
  });

  test('the Kafka broker killed and restarted mid-batch', async () => {
    await scenario('kafka-kill', () =>
      duringFault('kafka-kill', async () => {
        await Promise.all([waitReportsDown('detect', 'kafka'), waitApiReportsDown('kafka')]);
      }),
    );
  });

  test('the schema registry killed and restarted mid-batch', async () => {
    // Every stage process checks the registry. Running processes decode with the schemas they have cached, so for
    // the outage to meet work the aggregate worker is killed during it: the one imgpipe dev starts in its place knows
    // no schema, and must retry its messages (CODEC_REGISTRY_UNAVAILABLE, never dead-lettered) until the registry
    // is back. The outage ends (stack up) once that has happened.
    await scenario(
      'registry-kill',
      () =>
        duringFault('registry-kill', async () => {
          await Promise.all(STAGES.map((stage) => waitReportsDown(stage, 'schema-registry')));
          const pid = workerPid('aggregate');
          assert.ok(pid, 'imgpipe dev runs an aggregate worker');
          process.kill(pid, 'SIGKILL');
          await waitFor(
            'the restarted aggregate worker to meet the registry outage',
            async () => {
              const now = workerPid('aggregate');
              if (now === undefined || now === pid) return undefined;
              const met = await failures(opsPort('aggregate'), 'CODEC_REGISTRY_UNAVAILABLE').catch(() => 0);
              return met > 0 ? true : undefined;
            },
            120_000,
            250,
          );
        }),
      ['aggregate'],
    );
  });

  test('S3 frozen (SIGSTOP) for 30 s mid-batch', async () => {
    await scenario('s3-freeze', async () => {
      const frozenAt = performance.now();
      // Thawed (SIGCONT) when the fault ends.
      await duringFault('s3-freeze', async () => {
        await Promise.all([waitReportsDown('preprocess', 's3'), waitApiReportsDown('s3')]);
        // Thirty seconds from the freeze, counted by polling (the process stays frozen meanwhile).
        await waitFor(
          '30 s of frozen S3',
          () => (performance.now() - frozenAt >= 30_000 ? true : undefined),
          60_000,
          250,
        );
      });
    });
  });

  test('a worker killed with SIGKILL under imgpipe dev is restarted', async () => {
    await scenario('worker-sigkill', async () => {
      const pid = workerPid('detect');
      assert.ok(pid, 'imgpipe dev runs a detect worker');
      const restartsBefore = devLines.filter((line) => /detect restarted/.test(line)).length;
      process.kill(pid, 'SIGKILL');
      await waitFor(
        'imgpipe dev to restart the detect worker',
        () => {
          const restarted = devLines.filter((line) => /detect restarted/.test(line)).length > restartsBefore;
          const now = workerPid('detect');
          return restarted && now !== undefined && now !== pid ? true : undefined;
        },
        60_000,
        200,
      );
    }, ['detect']);
  });
});
