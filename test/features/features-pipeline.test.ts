/**
 * Keypoint features through the real pipeline (issue 15): a photo, a half-size copy of it re-encoded at JPEG quality
 * 50 (made here with sharp) and an unrelated photo are uploaded with `analyses=features` (query string, multipart,
 * and a direct producer's ImageUploaded.analyses through `imgpipe produce`), preprocessed, run through the features
 * stage, joined by the aggregate and stored by the results service, against the real Kafka, registry, S3, PostgreSQL
 * and Redis. Each completes with its keypoint summary; the expectation is computed here, in this process, by the
 * in-process module on the same bytes (decodeFeatureImage + detectKeypoints, what `imgpipe features` runs), and the
 * record in S3 holds every keypoint and descriptor it found. `similar` then finds the copy and not the other photo,
 * and the annotated image with `keypoints=true` shows each stored keypoint's circle where OpenCV would draw it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ImageView } from '@imgpipe/contracts';
import { decodeFeatureImage, decodeFeatures, detectKeypoints } from '@imgpipe/vision/features';
import sharp from 'sharp';
import {
  bearer,
  DOG_JPEG,
  deleteTenantImages,
  problemOf,
  s3Object,
  startTestApi,
  type TestApi,
  testTenant,
  tokenFor,
  uniqueJpeg,
} from '../api/support.ts';
import { waitFor } from '../support/kafka.ts';
import { keypointMarks } from '../support/keypoint-marks.ts';
import { type PipelineService, startServices, stopServices } from '../support/pipeline-services.ts';
import { sharedPath } from '../support/shared.ts';
import { runCli } from '../stack/support.ts';

// SIFT, the reference detector, at a detection size small enough to keep the run short.
const MAX_SIDE = 640;
const TOP = 20;
const EAGLE_JPEG = readFileSync(sharedPath('images', 'photos', 'eagle.jpg'));

describe('keypoint features in the pipeline', () => {
  let services: Map<string, PipelineService>;
  let api: TestApi;
  let dir: string;
  const tenant = testTenant('features');

  before(async () => {
    // Uploads asking for features alone run no model analysis: preprocess, features, aggregate and results suffice.
    services = await startServices(['preprocess', 'features', 'aggregate', 'results'], {
      IMGPIPE_FEATURES_DETECTOR: 'sift',
      IMGPIPE_FEATURES_MAX_SIDE: String(MAX_SIDE),
      IMGPIPE_FEATURES_TOP_KEYPOINTS: String(TOP),
    });
    api = await startTestApi();
    dir = await mkdtemp(join(tmpdir(), 'imgpipe-features-'));
  });

  after(async () => {
    if (api) await deleteTenantImages(api.api, [tenant]).catch(() => undefined);
    await api?.close();
    if (services) await stopServices(services);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('uploads with analyses=features complete with their keypoints; similar finds the copy, not the other photo', async () => {
    const photo = uniqueJpeg(EAGLE_JPEG);
    const meta = await sharp(EAGLE_JPEG).metadata();
    const copy = await sharp(EAGLE_JPEG)
      .resize(Math.round(meta.width! / 2))
      .jpeg({ quality: 50 })
      .toBuffer();
    const other = uniqueJpeg(DOG_JPEG);
    const token = tokenFor(tenant);

    const photoResponse = await fetch(`${api.url}/v1/images?analyses=features`, {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'image/jpeg' },
      body: photo,
    });
    assert.equal(photoResponse.status, 202, await photoResponse.clone().text());
    const form = new FormData();
    form.append('file', new Blob([copy], { type: 'image/jpeg' }), 'eagle-copy.jpg');
    form.append('analyses', 'features');
    const copyResponse = await fetch(`${api.url}/v1/images`, { method: 'POST', headers: bearer(token), body: form });
    assert.equal(copyResponse.status, 202, await copyResponse.clone().text());
    // A direct producer: ImageUploaded.analyses ['features'] set by imgpipe produce, no API involved.
    const otherFile = join(dir, 'dog.jpg');
    await writeFile(otherFile, other);
    const produced = await runCli(['produce', otherFile, '--tenant', tenant, '--analyses', 'features', '--json']);
    assert.equal(produced.code, 0, produced.stderr);
    const ids = [
      ((await photoResponse.json()) as { imageId: string }).imageId,
      ((await copyResponse.json()) as { imageId: string }).imageId,
      (JSON.parse(produced.stdout) as { imageId: string }).imageId,
    ];

    const viewer = bearer(tokenFor(tenant, 'viewer'));
    const views = await waitFor(
      'the three images to finish',
      async () => {
        const read = await Promise.all(
          ids.map(
            async (id) => (await (await fetch(`${api.url}/v1/images/${id}`, { headers: viewer })).json()) as ImageView,
          ),
        );
        return read.every((view) => view.status !== 'pending') ? read : undefined;
      },
      180_000,
      250,
    ).catch((error: unknown) => {
      for (const service of services.values()) console.error(`${service.name}:\n${service.lines.slice(-8).join('\n')}`);
      throw error;
    });

    for (const [index, bytes] of [photo, copy, other].entries()) {
      const view = views[index]!;
      assert.equal(view.status, 'completed', JSON.stringify({ stages: view.stages, features: view.featuresStage }));
      assert.equal(view.featuresStage?.status, 'completed');
      assert.equal(view.featuresStage?.model?.name, 'sift');
      // What the upload asked for, as every view reports it (issue 15: features was missing).
      assert.deepEqual(view.requestedAnalyses, ['features']);
      // Features alone ask for no model analysis.
      assert.deepEqual(
        [view.stages.detect.status, view.stages.faces.status, view.stages.ocr.status],
        ['skipped', 'skipped', 'skipped'],
      );

      // The independent expectation: the in-process module on the same bytes, at the same size, SIFT's defaults.
      const expected = await detectKeypoints(await decodeFeatureImage(bytes, { maxSide: MAX_SIDE }), {
        detector: 'sift',
      });
      const features = view.features!;
      assert.ok(features, `no features in ${JSON.stringify(view)}`);
      assert.equal(features.count, expected.keypoints.length);
      assert.ok(features.count > 100, `SIFT found ${features.count} keypoints`);
      assert.equal(features.detector, 'sift');
      assert.equal(
        features.params,
        'sift:contrastThreshold=0.04,edgeThreshold=10,nOctaveLayers=3,nfeatures=0,sigma=1.6',
      );
      assert.equal(features.maxSide, MAX_SIDE);
      assert.deepEqual([features.width, features.height], [view.image!.width, view.image!.height]);
      assert.deepEqual(
        features.keypoints.map((k) => [k.x, k.y, k.octave]),
        expected.keypoints.slice(0, TOP).map((k) => [k.x, k.y, k.octave]),
      );

      // Every keypoint and descriptor in S3, under a key from the original's SHA-256.
      assert.ok(
        features.descriptorsKey.startsWith(
          `tenants/${tenant}/features/${view.image!.sha256.slice(0, 2)}/${view.image!.sha256}/`,
        ),
        features.descriptorsKey,
      );
      const stored = await s3Object(features.descriptorsKey);
      assert.equal(stored.byteLength, features.descriptorsBytes);
      const record = decodeFeatures(stored);
      assert.equal(record.keypoints.length, features.count);
      assert.deepEqual(Uint8Array.from(record.descriptors), Uint8Array.from(expected.descriptors));
      console.log(
        `features ${view.sourceName ?? view.imageId}: ${features.count} SIFT keypoints at ${MAX_SIDE} px in ${view.featuresStage?.durationMs} ms`,
      );
    }

    // `imgpipe results` shows them (the same view).
    const shown = await runCli(['results', ids[0]!, '--tenant', tenant]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(
      shown.stdout,
      new RegExp(`features ${views[0]!.features!.count} sift keypoints \\(long side <= ${MAX_SIDE} px\\)`),
    );

    // similar: the resized, recompressed copy is found (within the default 7 bits); the unrelated photo is not.
    const similar = (await (await fetch(`${api.url}/v1/images/${ids[0]}/similar`, { headers: viewer })).json()) as {
      similar: { imageId: string; distance: number }[];
    };
    const found = similar.similar.map((entry) => entry.imageId);
    assert.ok(found.includes(ids[1]!), `the copy is similar: ${JSON.stringify(similar)}`);
    assert.ok(!found.includes(ids[2]!), `the other photo is not: ${JSON.stringify(similar)}`);

    // reprocess --stage features: --missing finds none (each has its features from the model the workers announce);
    // --all re-queues the three, and the stage reads each again: a new report, the same keypoints.
    const missing = await runCli(['reprocess', '--stage', 'features', '--missing', '--tenant', tenant, '--json']);
    assert.equal(missing.code, 0, missing.stderr);
    assert.deepEqual(JSON.parse(missing.stdout), {
      stage: 'features',
      mode: 'missing',
      model: views[0]!.featuresStage!.model,
      queued: 0,
    });
    const all = await runCli(['reprocess', '--stage', 'features', '--all', '--tenant', tenant, '--json']);
    assert.equal(all.code, 0, all.stderr);
    assert.equal((JSON.parse(all.stdout) as { queued: number }).queued, 3);
    const rerun = await waitFor(
      'the three re-runs to report',
      async () => {
        const read = await Promise.all(
          ids.map(
            async (id) => (await (await fetch(`${api.url}/v1/images/${id}`, { headers: viewer })).json()) as ImageView,
          ),
        );
        const done = read.every(
          (view, index) =>
            view.status === 'completed' && view.featuresStage?.durationMs !== views[index]!.featuresStage?.durationMs,
        );
        return done ? read : undefined;
      },
      180_000,
      250,
    );
    for (const [index, view] of rerun.entries()) {
      assert.equal(view.featuresStage?.status, 'completed');
      assert.deepEqual(view.features, views[index]!.features, 'the same bytes and options: the same features');
      assert.deepEqual(view.requestedAnalyses, ['features']);
      assert.deepEqual(
        [view.stages.detect.status, view.stages.faces.status, view.stages.ocr.status],
        ['skipped', 'skipped', 'skipped'],
        'no model analysis re-ran',
      );
    }

    // GET annotated?keypoints=true draws the stored keypoints (OpenCV's rich keypoints, in magenta) where the result
    // puts them, also scaled down by maxSide; without the option none are drawn.
    const annotated = (id: string, query = '') =>
      fetch(`${api.url}/v1/images/${id}/annotated${query}`, { headers: viewer });
    const features = views[0]!.features!;
    const space = { width: features.width };
    const drawnResponse = await annotated(ids[0]!, '?keypoints=true');
    assert.equal(drawnResponse.status, 200, await drawnResponse.clone().text());
    assert.equal(drawnResponse.headers.get('content-type'), 'image/png');
    const drawn = await keypointMarks(Buffer.from(await drawnResponse.arrayBuffer()), space);
    assert.deepEqual([drawn.width, drawn.height], [features.width, features.height]);
    assert.deepEqual(
      features.keypoints.filter((k) => !drawn.marked(k)),
      [],
      'every stored keypoint is drawn',
    );
    const smallResponse = await annotated(ids[0]!, '?keypoints=true&maxSide=400');
    assert.equal(smallResponse.status, 200);
    const small = await keypointMarks(Buffer.from(await smallResponse.arrayBuffer()), space);
    assert.equal(Math.max(small.width, small.height), 400);
    assert.deepEqual(
      features.keypoints.filter((k) => !small.marked(k)),
      [],
      'drawn at the scaled positions',
    );
    const plainResponse = await annotated(ids[0]!);
    assert.equal(plainResponse.status, 200);
    const plain = await keypointMarks(Buffer.from(await plainResponse.arrayBuffer()), space);
    assert.deepEqual(
      features.keypoints.filter((k) => plain.marked(k)),
      [],
      'none drawn without keypoints=true',
    );
    // An image without features (one that did not ask for them): 409 IMAGE_FEATURES_UNAVAILABLE, saying why; a
    // value that is not a boolean: 400.
    const bare = randomUUID();
    await api.api.deps.db.insertInto('images').values({ id: bare, tenant_id: tenant }).execute();
    const refused = await annotated(bare, '?keypoints=true');
    assert.equal(refused.status, 409);
    const problem = await problemOf(refused);
    assert.equal(problem['code'], 'IMAGE_FEATURES_UNAVAILABLE');
    assert.match(String(problem['detail']), /did not ask for them/);
    const bad = await annotated(ids[0]!, '?keypoints=yes');
    assert.equal(bad.status, 400);
    assert.equal((await problemOf(bad))['code'], 'REQUEST_INVALID');
  });
});
