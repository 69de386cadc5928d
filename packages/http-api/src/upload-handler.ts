import { randomUUID } from 'node:crypto';
import {
  inlineRendition,
  parseRecipeString,
  type RenditionPresets,
  type TransformLimits,
} from '@imgpipe/imaging/recipe';
import type { BatchRepository } from '@imgpipe/results';
import { extractTraceContext } from '@imgpipe/telemetry';
import { context } from '@opentelemetry/api';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DependencyBreakers } from './dependency-breakers.ts';
import { principalOf } from './fastify-types.ts';
import { IdempotencyStore, type StoredResponse } from './idempotency.ts';
import type { CheckedImage } from './image-intake.ts';
import type { IngestOptions, IngestOutcome, IngestService } from './ingest-service.ts';
import { toProblem } from './problem-details.ts';
import { readUpload } from './upload-input.ts';

export interface UploadDeps {
  ingest: IngestService;
  idempotency: IdempotencyStore;
  /** The rendition presets an upload may ask for (`renditions`). */
  presets: RenditionPresets;
  /** Where batches are kept (GET /v1/batches/{id} reads them). */
  batches: BatchRepository;
  breakers: DependencyBreakers;
  /** The limits a batch's ad-hoc recipe is checked against, as POST /v1/transform's. */
  recipeLimits: Partial<TransformLimits>;
}

export function imageLinks(imageId: string) {
  return {
    self: `/v1/images/${imageId}`,
    events: `/v1/images/${imageId}/events`,
    annotated: `/v1/images/${imageId}/annotated`,
  };
}

function accepted(outcome: IngestOutcome) {
  return { ...outcome, links: imageLinks(outcome.imageId) };
}

/**
 * POST /v1/images and POST /v1/batches: read and check the whole request (options, every image's bytes, every URL's
 * answer, the size of every event) before storing anything, honour Idempotency-Key, then ingest each image
 * (deduplicating by content). In a batch, images stored before one failed are still answered (with the failure
 * beside them), so no image exists that its client was not told about.
 */
export async function handleUpload(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: UploadDeps,
  mode: { batch: false } | { batch: true; maxItems: number },
): Promise<FastifyReply> {
  const { tenantId } = principalOf(request);
  const idempotencyKey = IdempotencyStore.parseKey(request.headers['idempotency-key']);
  const input = await readUpload(
    request,
    mode.batch
      ? { maxItems: mode.maxItems, fileField: 'files', presets: deps.presets, recipes: deps.recipeLimits }
      : { maxItems: 1, fileField: 'file', presets: deps.presets },
  );
  await deps.ingest.checkCallbackUrl(input.options.callbackUrl);
  const uploaded = input.items.map((item) => (item.kind === 'bytes' ? deps.ingest.check(item.bytes) : undefined));
  const fingerprint = IdempotencyStore.fingerprint(
    request.routeOptions.url,
    input.options,
    input.items.map((item, index) => (item.kind === 'url' ? item.url : uploaded[index]!.sha256)),
  );
  if (idempotencyKey) {
    const claim = await deps.idempotency.claim(tenantId, idempotencyKey, fingerprint);
    if (claim.kind === 'replay') return replay(reply, claim.response);
  }
  let response: StoredResponse;
  let batchId = '';
  /** The batch recorded for this request, removed again when none of its images is stored. */
  let recorded: string | undefined;
  try {
    // A batch's ad-hoc recipe travels beside its presets in ImageUploaded.renditions, as the inline entry
    // `recipe=<canonical recipe>` the transform stage renders (and deduplication compares).
    const renditions =
      input.options.recipe === undefined
        ? input.options.renditions
        : [...input.options.renditions, inlineRendition(parseRecipeString(input.options.recipe))];
    // Fetch and check every URL before storing anything, so one bad image refuses the whole request.
    const images: { image: CheckedImage; options: IngestOptions }[] = [];
    for (const [index, item] of input.items.entries()) {
      let image: CheckedImage;
      let sourceName = item.sourceName;
      if (item.kind === 'bytes') {
        image = uploaded[index]!;
      } else {
        const fetched = await deps.ingest.fetchUrl(item.url);
        image = deps.ingest.check(fetched.bytes);
        sourceName ??= fetched.sourceName;
      }
      const name = mode.batch ? sourceName : (input.options.sourceName ?? sourceName);
      const { recipe: _recipe, ...asked } = input.options;
      const options = { ...asked, renditions, ...(name ? { sourceName: name } : {}) };
      deps.ingest.checkEventSize(tenantId, image, options);
      images.push({ image, options });
    }
    // A batch is recorded before its first image is stored: if it cannot be, nothing is stored.
    batchId = randomUUID();
    if (mode.batch) {
      const created = { batchId, tenantId, renditions: input.options.renditions };
      await deps.breakers.database(() =>
        deps.batches.create(
          input.options.recipe === undefined ? created : { ...created, recipe: input.options.recipe },
        ),
      );
      recorded = batchId;
    }
    const outcomes: IngestOutcome[] = [];
    const positions: number[] = [];
    const failures: { index: number; error: unknown }[] = [];
    // A caller's W3C traceparent becomes the parent of the upload's trace, which Kafka headers carry on.
    await context.with(extractTraceContext(request.headers), async () => {
      for (const [index, { image, options }] of images.entries()) {
        try {
          outcomes.push(await deps.ingest.ingest(tenantId, image, options));
          positions.push(index);
        } catch (error) {
          // Nothing of this image was kept; the ones before it were, and are answered.
          if (!mode.batch || outcomes.length === 0) throw error;
          failures.push({ index, error });
        }
      }
    });
    if (mode.batch) await recordBatchImages(deps, request, batchId, outcomes, positions);
    response = mode.batch ? batchResponse(batchId, outcomes, failures, request) : singleResponse(outcomes[0]!);
  } catch (error) {
    if (recorded !== undefined) {
      const batch = recorded;
      await deps.breakers.database(() => deps.batches.remove(tenantId, batch)).catch(() => undefined);
    }
    if (idempotencyKey) await deps.idempotency.release(tenantId, idempotencyKey).catch(() => undefined);
    throw error;
  }
  // The images exist now: failing to remember the answer must not turn it into an error the client retries.
  if (idempotencyKey) {
    await deps.idempotency.complete(tenantId, idempotencyKey, fingerprint, response).catch((error: unknown) => {
      request.log.warn({ err: (error as Error).message }, 'Idempotency-Key answer not stored');
    });
  }
  return send(reply, response);
}

/**
 * The batch's images, once stored. They exist now, so failing to record them is logged, not answered as an error
 * the client would retry (the batch then lists fewer images).
 */
async function recordBatchImages(
  deps: UploadDeps,
  request: FastifyRequest,
  batchId: string,
  outcomes: readonly IngestOutcome[],
  positions: readonly number[],
): Promise<void> {
  const images = outcomes.map((outcome, index) => ({ position: positions[index]!, imageId: outcome.imageId }));
  await deps.breakers
    .database(() => deps.batches.addImages(batchId, images))
    .catch((error: unknown) => {
      request.log.warn({ err: (error as Error).message, batchId }, "batch's images not recorded");
    });
}

function singleResponse(outcome: IngestOutcome): StoredResponse {
  const finished = outcome.deduplicated && outcome.status !== 'pending';
  return { statusCode: finished ? 200 : 202, body: accepted(outcome), location: imageLinks(outcome.imageId).self };
}

function batchResponse(
  batchId: string,
  outcomes: IngestOutcome[],
  failures: { index: number; error: unknown }[],
  request: FastifyRequest,
): StoredResponse {
  return {
    statusCode: 202,
    location: `/v1/batches/${batchId}`,
    body: {
      batchId,
      links: { self: `/v1/batches/${batchId}` },
      images: outcomes.map(accepted),
      ...(failures.length > 0
        ? { failed: failures.map(({ index, error }) => ({ index, problem: toProblem(error, request) })) }
        : {}),
    },
  };
}

function send(reply: FastifyReply, response: StoredResponse): FastifyReply {
  if (response.location) reply.header('location', response.location);
  return reply.code(response.statusCode).send(response.body);
}

function replay(reply: FastifyReply, response: StoredResponse): FastifyReply {
  reply.header('idempotent-replayed', 'true');
  return send(reply, response);
}
