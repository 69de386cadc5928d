/**
 * Operations on a running pipeline, against the real stack: pausing and resuming a stage (real worker processes),
 * the stall detector (a real stage process whose handler is blocked), and reprocessing with a model version
 * (`imgpipe reprocess --missing` after the detect workers switched models). Run under the stack lock.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual, promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { consumerGroupFor, EventCodec, exampleEvents, STAGE_INPUTS, type Stage } from '@imgpipe/contracts';
import { loadConfig } from '@imgpipe/core';
import { createDatabase, getImage } from '@imgpipe/results';
import { measureGroupProgress, stageProcessSettings, startStageProcess } from '@imgpipe/stream';
import { sql } from 'kysely';
import { createTestTopic, endpoints, testKafka, waitFor } from '../support/kafka.ts';
import {
  launch,
  type PipelineService,
  startServices,
  stopServices,
  waitUntilStarted,
} from '../support/pipeline-services.ts';
import { sharedPath } from '../support/shared.ts';

const run = promisify(execFile);
const IMGPIPE = fileURLToPath(new URL('../../apps/cli/bin/imgpipe.js', import.meta.url));
const TENANT = `ops-test-${randomUUID().slice(0, 8)}`;
const ENV = {
  IMGPIPE_INFERENCE_THREADS: '1',
  IMGPIPE_SHUTDOWN_DEADLINE_MS: '20000',
  IMGPIPE_KAFKA_SESSION_TIMEOUT_MS: '10000',
  IMGPIPE_KAFKA_HEARTBEAT_INTERVAL_MS: '1000',
  IMGPIPE_STALL_CHECK_INTERVAL_MS: '500',
};

function files(count: number): string[] {
  return readdirSync(sharedPath('images', 'coco'))
    .filter((name) => name.endsWith('.jpg'))
    .sort()
    .slice(0, count)
    .map((name) => sharedPath('images', 'coco', name));
}

async function cli(args: string[], env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run(process.execPath, [IMGPIPE, ...args], {
    env: { ...process.env, ...ENV, ...env },
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

async function produce(paths: string[]): Promise<{ file: string; imageId: string }[]> {
  const stdout = await cli(['produce', '--json', '--tenant', TENANT, '--analyses', 'detect', ...paths]);
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { file: string; imageId: string });
}

async function readiness(port: number): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function metric(port: number, name: string, stage: string): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  // Every series of the metric for the stage (whatever its other labels), summed; undefined when there is none.
  const lines = text.split('\n').filter((row) => row.startsWith(`${name}{stage="${stage}"`));
  return lines.length === 0 ? undefined : lines.reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

describe('stage operations', () => {
  const db = createDatabase({ url: endpoints.databaseUrl, poolSize: 2 });
  const kafka = testKafka('ops-test');
  const admin = kafka.admin();
  let services: Map<string, PipelineService> = new Map();
  let detect: PipelineService | undefined;
  /** Set A: produced while detect ran yolox-nano (and was paused for a while). */
  let setA: { file: string; imageId: string }[] = [];

  before(async () => {
    await admin.connect();
    services = await startServices(['preprocess', 'aggregate', 'results'], ENV);
  });

  after(async () => {
    // Never leave detect paused for whoever runs next.
    await cli(['stage', 'resume', 'detect']).catch(() => {});
    if (detect) await detect.service.stop(30_000);
    await stopServices(services);
    await admin.disconnect();
    await db.destroy();
  });

  async function detectLag(): Promise<number> {
    return (await measureGroupProgress(admin, consumerGroupFor('detect'), STAGE_INPUTS.detect)).lag;
  }

  /** The image's labels (view), and the labels, objects and textInObjects of its stored analysis document. */
  async function labelledResult(imageId: string) {
    const view = await getImage(db, TENANT, imageId);
    const row = await db.selectFrom('images').select('analysis').where('id', '=', imageId).executeTakeFirstOrThrow();
    const analysis = row.analysis as { labels: unknown; objects: unknown; textInObjects: unknown } | null;
    return {
      labels: view?.labels,
      textInObjects: view?.textInObjects,
      analysis: { labels: analysis?.labels, objects: analysis?.objects, textInObjects: analysis?.textInObjects },
    };
  }

  async function detectRow(imageId: string) {
    return db
      .selectFrom('image_stages')
      .selectAll()
      .where('image_id', '=', imageId)
      .where('stage', '=', 'detect')
      .executeTakeFirst();
  }

  test('a paused stage consumes nothing in any worker (one started while paused too); resumed, every image completes', async () => {
    await cli(['stage', 'pause', 'detect']);
    // A worker started while its stage is paused starts paused: it reads the control topic before it fetches.
    detect = launch('detect', { ...ENV, IMGPIPE_DETECT_MODEL: 'yolox-nano' });
    await waitUntilStarted(detect);
    const ready = await readiness(detect.httpPort);
    assert.equal(ready.status, 200, 'paused is not unready');
    assert.equal((ready.body.details as { paused?: boolean }).paused, true);
    assert.equal(await metric(detect.httpPort, 'imgpipe_stage_paused', 'detect'), 1);

    const lagBefore = await detectLag();
    setA = await produce(files(3));
    const ids = setA.map((image) => image.imageId);
    // Preprocess (not paused) finishes every image, so detect's input holds all three...
    await waitFor(
      'preprocess to finish the images',
      async () => {
        for (const imageId of ids) {
          const view = await getImage(db, TENANT, imageId);
          if (view?.stages.preprocess.status !== 'completed') return undefined;
        }
        return true;
      },
      120_000,
      250,
    );
    // ...and the paused detect group does not move: its lag grows by exactly those three and stays.
    await waitFor('detect lag to grow by 3', async () => ((await detectLag()) >= lagBefore + 3 ? true : undefined));
    for (const imageId of ids) assert.equal((await detectRow(imageId))?.status, 'pending', imageId);
    assert.equal(
      await metric(detect.httpPort, 'imgpipe_messages_processed_total', 'detect'),
      undefined,
      'the paused worker handled no message',
    );
    assert.equal((await getImage(db, TENANT, ids[0]!))?.status, 'pending');

    await cli(['stage', 'resume', 'detect']);
    await waitFor(
      'every image to complete after resume',
      async () => {
        for (const imageId of ids) {
          const view = await getImage(db, TENANT, imageId);
          if (view?.status !== 'completed' || view.stages.detect.status !== 'completed') return undefined;
        }
        return true;
      },
      240_000,
      500,
    );
    assert.equal(await detectLag(), 0, 'nothing left behind in detect’s input');
    assert.equal(await metric(detect.httpPort, 'imgpipe_stage_paused', 'detect'), 0);
    for (const imageId of ids) assert.equal((await detectRow(imageId))?.model_name, 'yolox-nano');
  });

  test('reprocess --missing after switching the detect model re-runs exactly the images analysed by the other one', async () => {
    assert.equal(setA.length, 3, 'runs after the pause test');
    await detect!.service.stop(30_000);
    detect = launch('detect', { ...ENV, IMGPIPE_DETECT_MODEL: 'yolox-nano-640' });
    await waitUntilStarted(detect);
    // Set B: the same files, new images, analysed by the new model from the start.
    const setB = await produce(setA.map((image) => image.file));
    const idsB = setB.map((image) => image.imageId);
    await waitFor(
      'set B to complete with yolox-nano-640',
      async () => {
        for (const imageId of idsB) {
          if ((await detectRow(imageId))?.model_name !== 'yolox-nano-640') return undefined;
          if ((await getImage(db, TENANT, imageId))?.status !== 'completed') return undefined;
        }
        return true;
      },
      240_000,
      500,
    );
    const bBefore = new Map(await Promise.all(idsB.map(async (id) => [id, (await detectRow(id))!] as const)));
    // What the new model finds in each file, from set B (analysed by it from the start): the expectation for set A.
    const expected = await Promise.all(idsB.map((id) => labelledResult(id)));
    const aFirst = await Promise.all(setA.map(({ imageId }) => labelledResult(imageId)));
    assert.ok(
      aFirst.some((first, index) => !isDeepStrictEqual(first.labels, expected[index]!.labels)),
      'the two models label these files differently, so stale labels would show',
    );

    const out = JSON.parse(await cli(['reprocess', '--stage', 'detect', '--missing', '--tenant', TENANT, '--json']));
    assert.equal(out.queued, setA.length, 'only the images analysed by yolox-nano are queued');
    assert.equal(out.model.name, 'yolox-nano-640');

    await waitFor(
      'set A to be re-analysed by yolox-nano-640',
      async () => {
        for (const { imageId } of setA) {
          if ((await detectRow(imageId))?.model_name !== 'yolox-nano-640') return undefined;
        }
        return true;
      },
      240_000,
      500,
    );
    // Set B was not re-run: its detect rows are exactly as they were.
    for (const id of idsB) assert.deepEqual(await detectRow(id), bBefore.get(id), id);
    // Each re-run image now has what the new model finds in the same file (set B's rows): replaced, not appended.
    for (const [index, { imageId }] of setA.entries()) {
      const a = await getImage(db, TENANT, imageId);
      const b = await getImage(db, TENANT, idsB[index]!);
      assert.equal(a?.status, 'completed');
      assert.deepEqual(a?.objects, b?.objects, `${setA[index]!.file}: the same detections as the same file in set B`);
      const { rows } = await sql<{ n: number; distinct_ordinals: number }>`
        select count(*)::int as n, count(distinct ordinal)::int as distinct_ordinals from detections
        where image_id = ${imageId}`.execute(db);
      assert.equal(rows[0]!.n, b!.objects.length, 'no duplicate detection rows');
      assert.equal(rows[0]!.distinct_ordinals, rows[0]!.n);
    }
    // The labels, the analysis document and textInObjects follow the re-run too (aggregate emits the re-joined
    // result): they converge on the new model's, as set B has them.
    const converged = await waitFor(
      'set A’s labels and analysis to follow the re-run',
      async () => {
        const now = await Promise.all(setA.map(({ imageId }) => labelledResult(imageId)));
        return isDeepStrictEqual(now, expected) ? now : undefined;
      },
      60_000,
      250,
    ).catch(async () => Promise.all(setA.map(({ imageId }) => labelledResult(imageId))));
    assert.deepEqual(converged, expected, 'labels, analysis document and textInObjects equal the new model’s');
    const again = JSON.parse(await cli(['reprocess', '--stage', 'detect', '--missing', '--tenant', TENANT, '--json']));
    assert.equal(again.queued, 0, 'nothing is missing any more');
  });

  test('the stall detector flags a stage whose handler is blocked, with lag, and clears when it progresses', async () => {
    const topic = await createTestTopic(kafka, 'stall');
    const name = `stall-${randomUUID().slice(0, 8)}`;
    let release: () => void = () => {};
    const blocked = new Promise<void>((resolve) => {
      release = resolve;
    });
    let handled = 0;
    const stage: Stage = {
      name,
      groupId: `test.${name}`,
      inputs: [topic],
      deadLetterTopic: `${topic}.dlq`,
      async handle() {
        await blocked;
        handled += 1;
        return [];
      },
    };
    const config = loadConfig(stageProcessSettings, {
      ...process.env,
      ...ENV,
      IMGPIPE_HTTP_PORT: '0',
      IMGPIPE_LOG_LEVEL: 'error',
      IMGPIPE_STALL_AFTER_MS: '3000',
      IMGPIPE_STALL_CHECK_INTERVAL_MS: '250',
    });
    const stageProcess = await startStageProcess({ service: name, config, createStage: async () => stage });
    try {
      const codec = new EventCodec({ registryUrl: endpoints.schemaRegistryUrl });
      const producer = kafka.producer();
      await producer.connect();
      const value = await codec.encode('ImageUploaded', exampleEvents().ImageUploaded);
      await producer.send({
        topic,
        messages: [
          { key: 'a', value },
          { key: 'a', value },
        ],
      });
      await producer.disconnect();
      const port = stageProcess.httpPort;

      const stalled = await waitFor(
        'the stage to be reported stalled',
        async () => ((await metric(port, 'imgpipe_stage_stalled', name)) === 1 ? readiness(port) : undefined),
        30_000,
        200,
      );
      assert.equal(handled, 0, 'nothing was processed: the handler is blocked');
      assert.equal(stalled.status, 200, 'stalled is reported, not unready');
      const stall = (stalled.body.details as { stall: { stalled: boolean; lag: number } }).stall;
      assert.equal(stall.stalled, true);
      assert.equal(stall.lag, 2);

      release();
      await waitFor(
        'the stall to clear once the stage commits',
        async () => ((await metric(port, 'imgpipe_stage_stalled', name)) === 0 ? true : undefined),
        30_000,
        200,
      );
      assert.equal(handled, 2);
      const ready = await readiness(port);
      assert.equal((ready.body.details as { stall: { stalled: boolean } }).stall.stalled, false);
    } finally {
      release();
      await stageProcess.stop();
    }
  });
});
