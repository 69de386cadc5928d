/**
 * Scenario tests of the distributed pipeline against the real stack: every worker and the results service run as
 * their own processes (`imgpipe run ...`), images enter through `imgpipe produce`, and outcomes are read back from
 * PostgreSQL, the dead-letter topics, the services' metrics endpoints and an OTLP trace receiver.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { type DeadLetter, deadLetterTopicFor, EventCodec, TOPICS } from '@imgpipe/contracts';
import { createDatabase, getImage, type ImageView } from '@imgpipe/results';
import { readTopicToEnd } from '@imgpipe/stream';
import { sql } from 'kysely';
import { endpoints, testKafka, waitFor } from '../support/kafka.ts';
import { startOtlpReceiver } from '../support/otlp-receiver.ts';
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
const TENANT = `pipeline-test-${randomUUID().slice(0, 8)}`;
const SHUTDOWN_DEADLINE_MS = 20_000;

function images(folder: string, count: number): string[] {
  return readdirSync(sharedPath('images', folder))
    .filter((name) => /\.(jpe?g|png)$/i.test(name))
    .sort()
    .slice(0, count)
    .map((name) => sharedPath('images', folder, name));
}

describe('the Kafka pipeline, end to end', () => {
  const db = createDatabase({ url: endpoints.databaseUrl, poolSize: 2 });
  const kafka = testKafka('pipeline-test');
  const codec = new EventCodec({ registryUrl: endpoints.schemaRegistryUrl });
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let services: Map<string, PipelineService>;
  let env: Record<string, string>;

  before(async () => {
    receiver = await startOtlpReceiver();
    env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '200',
      IMGPIPE_INFERENCE_THREADS: '1',
      IMGPIPE_SHUTDOWN_DEADLINE_MS: String(SHUTDOWN_DEADLINE_MS),
      IMGPIPE_KAFKA_SESSION_TIMEOUT_MS: '10000',
      IMGPIPE_KAFKA_HEARTBEAT_INTERVAL_MS: '1000',
    };
    services = await startServices(undefined, env);
  });

  after(async () => {
    if (services) await stopServices(services);
    await receiver?.close();
    await db.destroy();
  });

  async function produce(files: string[], ...extra: string[]): Promise<{ file: string; imageId: string }[]> {
    const { stdout } = await run(
      process.execPath,
      [IMGPIPE, 'produce', '--json', '--tenant', TENANT, ...extra, ...files],
      {
        env: { ...process.env, ...env },
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    return stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { file: string; imageId: string });
  }

  async function settled(imageIds: string[], timeoutMs = 240_000): Promise<Map<string, ImageView>> {
    return waitFor(
      `${imageIds.length} images to settle`,
      async () => {
        const views = new Map<string, ImageView>();
        for (const imageId of imageIds) {
          const view = await getImage(db, TENANT, imageId);
          if (!view || view.status === 'pending') return undefined;
          views.set(imageId, view);
        }
        return views;
      },
      timeoutMs,
      500,
    );
  }

  async function deadLetters(stage: 'preprocess'): Promise<DeadLetter[]> {
    const letters: DeadLetter[] = [];
    await readTopicToEnd({
      kafka,
      topic: deadLetterTopicFor(stage),
      groupId: `pipeline-test-reader-${randomUUID()}`,
      commit: false,
      onMessage: async (message) => {
        letters.push((await codec.decode(message.value!)).value as DeadLetter);
      },
    });
    return letters;
  }

  /** What `imgpipe analyze` finds in the files in process (no Kafka, no PostgreSQL), by file. */
  async function analyzeInProcess(files: string[]): Promise<Map<string, ImageView & { file: string }>> {
    const { stdout } = await run(process.execPath, [IMGPIPE, 'analyze', '--json', ...files], {
      env: { ...process.env, IMGPIPE_MODELS_DIR: sharedPath('models'), IMGPIPE_INFERENCE_THREADS: '1' },
      maxBuffer: 64 * 1024 * 1024,
    });
    return new Map(
      stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as ImageView & { file: string })
        .map((analysis) => [analysis.file, analysis]),
    );
  }

  /**
   * No result row lost or written twice, judged against counts that do not come from the tables checked: per image,
   * each result table holds exactly as many rows as the in-process run finds items for the same file, numbered
   * 0..n-1 with no (image, ordinal) twice; and each stage has exactly one row in image_stages.
   */
  async function assertRowsMatchInProcess(
    produced: { file: string; imageId: string }[],
    inProcess: Map<string, ImageView & { file: string }>,
  ): Promise<{ detections: number; faces: number; text_lines: number }> {
    const ids = produced.map((p) => p.imageId);
    const totals = { detections: 0, faces: 0, text_lines: 0 };
    const perImage = async (table: 'detections' | 'faces' | 'text_lines') => {
      const { rows } = await sql<{ image_id: string; n: number; ordinals: number; low: number; high: number }>`
        select image_id, count(*)::int as n, count(distinct ordinal)::int as ordinals,
               min(ordinal)::int as low, max(ordinal)::int as high
        from ${sql.table(table)} where image_id = any(${ids}::uuid[]) group by image_id`.execute(db);
      return new Map(rows.map(({ image_id, ...counts }) => [image_id, counts]));
    };
    const tables = {
      detections: await perImage('detections'),
      faces: await perImage('faces'),
      text_lines: await perImage('text_lines'),
    };
    const { rows: stageRows } = await sql<{ image_id: string; stage: string; n: number }>`
      select image_id, stage, count(*)::int as n from image_stages
      where image_id = any(${ids}::uuid[]) group by image_id, stage`.execute(db);
    for (const { file, imageId } of produced) {
      const local = inProcess.get(file);
      assert.ok(local, `${file} was analysed in process`);
      const expected = {
        detections: local.objects.length,
        faces: local.faces.length,
        text_lines: local.text.lines.length,
      };
      for (const table of ['detections', 'faces', 'text_lines'] as const) {
        const n = expected[table];
        totals[table] += n;
        const counts = tables[table].get(imageId) ?? { n: 0, ordinals: 0, low: 0, high: -1 };
        assert.deepEqual(
          counts,
          n === 0 ? { n: 0, ordinals: 0, low: 0, high: -1 } : { n, ordinals: n, low: 0, high: n - 1 },
          `${file}: ${table} rows (in process: ${n})`,
        );
      }
      const stages = stageRows.filter((row) => row.image_id === imageId);
      assert.deepEqual(
        stages.map((row) => [row.stage, row.n]).sort(),
        ['aggregate', 'detect', 'faces', 'ocr', 'preprocess'].map((stage) => [stage, 1]),
        `${file}: one image_stages row per stage`,
      );
    }
    return totals;
  }

  let first: { file: string; imageId: string } | undefined;

  test('30 produced images all complete, with the labels and text imgpipe analyze finds', async () => {
    const files = [...images('photos', 11), ...images('documents', 2), ...images('coco', 17)];
    assert.equal(files.length, 30);
    const produced = await produce(files);
    first = produced[0];
    const views = await settled(produced.map((p) => p.imageId));
    for (const { file, imageId } of produced) {
      assert.equal(views.get(imageId)?.status, 'completed', `${file} completed`);
    }

    const inProcess = await analyzeInProcess(files);
    for (const { file, imageId } of produced) {
      const viaKafka = views.get(imageId)!;
      const local = inProcess.get(file)!;
      assert.deepEqual(
        viaKafka.labels.map((l) => [l.label, l.count]),
        local.labels.map((l) => [l.label, l.count]),
        `${file}: same labels`,
      );
      assert.equal(viaKafka.text.fullText, local.text.fullText, `${file}: same text`);
      assert.ok(local.image?.scene, `${file}: imgpipe analyze gives the texture and composition`);
      assert.deepEqual(viaKafka.image?.scene, local.image.scene, `${file}: the same texture and composition`);
      assert.equal(viaKafka.sourceName, file.split('/').pop(), `${file}: the file name travels as the source name`);
    }
    const totals = await assertRowsMatchInProcess(produced, inProcess);
    // The comparison means something only if the files give rows of every kind.
    for (const [table, total] of Object.entries(totals)) assert.ok(total > 0, `the 30 files give ${table} rows`);
  });

  test('one trace runs from imgpipe produce through every stage to the PostgreSQL write', async () => {
    assert.ok(first, 'the first scenario produced an image');
    const produceSpan = await waitFor('the produce span', () =>
      receiver.spans.find((span) => span.attributes['imgpipe.image_id'] === first!.imageId),
    );
    const services = [
      'imgpipe-preprocess',
      'imgpipe-detect',
      'imgpipe-faces',
      'imgpipe-ocr',
      'imgpipe-aggregate',
      'imgpipe-results',
    ];
    const trace = await waitFor('spans of every stage in the trace', () => {
      const inTrace = receiver.spans.filter((span) => span.traceId === produceSpan.traceId);
      const seen = new Set(inTrace.map((span) => span.service));
      const wrote = inTrace.some(
        (span) => span.service === 'imgpipe-results' && span.name.startsWith('upsert ImageAnalyzed'),
      );
      return services.every((service) => seen.has(service)) && wrote ? inTrace : undefined;
    });
    assert.equal(produceSpan.service, 'imgpipe-produce');
    const processSpans = trace.filter((span) => span.name.startsWith('process '));
    for (const span of processSpans) {
      assert.equal(span.attributes['messaging.system'], 'kafka');
      assert.ok(span.parentSpanId, `${span.service} ${span.name} continues the trace it received`);
    }
  });

  test("a worker's metrics endpoint reports what it did", async () => {
    const detect = services.get('detect')!;
    const body = await (await fetch(`http://127.0.0.1:${detect.httpPort}/metrics`)).text();
    const value = (pattern: RegExp) => Number(body.match(pattern)?.[1] ?? Number.NaN);
    assert.ok(value(/imgpipe_messages_processed_total\{stage="detect",outcome="ok"\} (\d+)/) >= 30);
    assert.ok(value(/imgpipe_processing_duration_seconds_count\{stage="detect"\} (\d+)/) >= 30);
    assert.ok(value(/imgpipe_model_inference_duration_seconds_count\{model="yolox-nano"\} (\d+)/) >= 30);
    assert.equal(value(/imgpipe_in_flight_messages\{stage="detect"\} (\d+)/), 0);
    assert.match(body, /imgpipe_consumer_lag\{stage="detect",topic="images\.preprocessed",partition="\d+"\} \d+/);
    const health = await fetch(`http://127.0.0.1:${detect.httpPort}/readyz`);
    assert.equal(health.status, 200);
    // The results service reports its webhook receivers' circuits as the API reports its dependencies'.
    const results = await (await fetch(`http://127.0.0.1:${services.get('results')!.httpPort}/metrics`)).text();
    for (const state of ['closed', 'open', 'half-open']) {
      assert.match(results, new RegExp(`imgpipe_circuit_breaker_state\\{breaker="webhooks",state="${state}"\\} 0`));
    }
    // ... and in its readiness detail, as the API lists its egress hosts: no receiver circuit here, none unhealthy.
    const ready = await fetch(`http://127.0.0.1:${services.get('results')!.httpPort}/readyz`);
    const detail = (await ready.json()) as { details?: { breakers?: unknown } };
    assert.deepEqual(detail.details?.breakers, { webhooks: { closed: 0, open: 0, 'half-open': 0, unhealthy: [] } });
  });

  test('a corrupt image is dead-lettered with its code and fails while the others complete; redrive re-runs it', async () => {
    const produced = await produce([sharedPath('images', 'broken', 'truncated.jpg'), ...images('photos', 2)]);
    const [broken, ...good] = produced;
    const views = await settled(produced.map((p) => p.imageId));
    const failed = views.get(broken!.imageId)!;
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error?.code, 'IMAGE_TRUNCATED');
    assert.equal(failed.stages.preprocess.error?.code, 'IMAGE_TRUNCATED');
    for (const { imageId } of good) assert.equal(views.get(imageId)?.status, 'completed');

    const letters = (await deadLetters('preprocess')).filter((l) => l.imageId === broken!.imageId);
    assert.equal(letters.length, 1);
    assert.equal(letters[0]!.errorCode, 'IMAGE_TRUNCATED');
    assert.equal(letters[0]!.sourceTopic, TOPICS.uploaded);

    const { stdout } = await run(process.execPath, [IMGPIPE, 'dlq', 'redrive', '--stage', 'preprocess', '--json'], {
      env: { ...process.env, ...env },
    });
    assert.ok(stdout.includes(broken!.imageId), 'the dead letter was redriven');
    await waitFor('the redriven image to dead-letter again', async () => {
      const again = (await deadLetters('preprocess')).filter((l) => l.imageId === broken!.imageId);
      return again.length === 2 ? again : undefined;
    });
    assert.equal((await getImage(db, TENANT, broken!.imageId))?.error?.code, 'IMAGE_TRUNCATED');
  });

  test('garbage bytes and an unknown schema id are dead-lettered with their codes; the stage keeps consuming', async () => {
    const garbageKey = randomUUID();
    const unknownKey = randomUUID();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: TOPICS.uploaded,
      messages: [
        { key: garbageKey, value: Buffer.from('this is not an event') },
        { key: unknownKey, value: Buffer.concat([Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0]), Buffer.from('body')]) },
      ],
    });
    await producer.disconnect();
    const [after] = await produce(images('photos', 1));
    const codes = await waitFor('both dead letters', async () => {
      const letters = await deadLetters('preprocess');
      const garbage = letters.find((l) => l.imageId === garbageKey);
      const unknown = letters.find((l) => l.imageId === unknownKey);
      return garbage && unknown ? [garbage.errorCode, unknown.errorCode] : undefined;
    });
    assert.deepEqual(codes, ['CODEC_MISSING_MAGIC_BYTE', 'CODEC_UNKNOWN_SCHEMA']);
    const views = await settled([after!.imageId]);
    assert.equal(views.get(after!.imageId)?.status, 'completed', 'an image behind the poison messages completes');
  });

  test('a worker killed with SIGKILL mid-stream and started again: every image completes, no duplicate rows', async () => {
    const files = [...images('coco', 24).slice(12), ...images('photos', 4)];
    const produced = await produce(files);
    const ids = produced.map((p) => p.imageId);
    await waitFor(
      'detect to finish its first image',
      async () => {
        for (const imageId of ids) {
          if ((await getImage(db, TENANT, imageId))?.stages.detect.status === 'completed') return true;
        }
        return undefined;
      },
      120_000,
      50,
    );
    await services.get('detect')!.service.kill();
    const restarted = launch('detect', env);
    services.set('detect', restarted);
    await waitUntilStarted(restarted);
    const views = await settled(ids);
    for (const imageId of ids) assert.equal(views.get(imageId)?.status, 'completed');
    await assertRowsMatchInProcess(produced, await analyzeInProcess(files));
  });

  test('SIGTERM while processing: the worker exits within its deadline; nothing is lost or applied twice', async () => {
    const files = [...images('coco', 30).slice(24), ...images('documents', 2)];
    const produced = await produce(files);
    const ids = produced.map((p) => p.imageId);
    const ocr = services.get('ocr')!;
    await waitFor(
      'OCR to have work in flight',
      async () => {
        const body = await (await fetch(`http://127.0.0.1:${ocr.httpPort}/metrics`)).text();
        return /imgpipe_in_flight_messages\{stage="ocr"\} [1-9]/.test(body) ? true : undefined;
      },
      120_000,
      20,
    );
    const stopped = Date.now();
    const exit = await ocr.service.stop(SHUTDOWN_DEADLINE_MS + 15_000);
    const tookMs = Date.now() - stopped;
    assert.equal(exit.code, 0, `a graceful stop exits 0 (took ${tookMs} ms)`);
    assert.ok(
      tookMs <= SHUTDOWN_DEADLINE_MS + 5_000,
      `exited within its ${SHUTDOWN_DEADLINE_MS} ms deadline (took ${tookMs} ms)`,
    );
    assert.ok(
      ocr.lines.some((line) => line.includes('"stopped"')),
      'it logged a clean stop',
    );

    const restarted = launch('ocr', env);
    services.set('ocr', restarted);
    await waitUntilStarted(restarted);
    const views = await settled(ids);
    for (const imageId of ids) assert.equal(views.get(imageId)?.status, 'completed');
    await assertRowsMatchInProcess(produced, await analyzeInProcess(files));
  });
});
