import { randomUUID } from 'node:crypto';
import { extractTraceContext } from '@imgpipe/telemetry';
import { context } from '@opentelemetry/api';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { principalOf } from './fastify-types.ts';
import { IdempotencyStore, type StoredResponse } from './idempotency.ts';
import type { CheckedImage } from './image-intake.ts';
import type { IngestOutcome, IngestService } from './ingest-service.ts';
import { readUpload } from './upload-input.ts';

export interface UploadDeps {
  ingest: IngestService;
  idempotency: IdempotencyStore;
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
 * POST /v1/images and POST /v1/batches: read the request, check every image before storing any, honour
 * Idempotency-Key, then ingest each image (deduplicating by content).
 */
export async function handleUpload(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: UploadDeps,
  mode: { batch: false } | { batch: true; maxItems: number },
): Promise<FastifyReply> {
  const { tenantId } = principalOf(request);
  const idempotencyKey = IdempotencyStore.parseKey(request.headers['idempotency-key']);
  const input = await readUpload(request, { maxItems: mode.batch ? mode.maxItems : 1 });
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
  try {
    // Fetch and check every URL before storing anything, so one bad image refuses the whole request.
    const images: { image: CheckedImage; sourceName?: string }[] = [];
    for (const [index, item] of input.items.entries()) {
      if (item.kind === 'bytes') {
        images.push({ image: uploaded[index]!, ...(item.sourceName ? { sourceName: item.sourceName } : {}) });
      } else {
        const fetched = await deps.ingest.fetchUrl(item.url);
        images.push({ image: deps.ingest.check(fetched.bytes), sourceName: item.sourceName ?? fetched.sourceName });
      }
    }
    const outcomes: IngestOutcome[] = [];
    // A caller's W3C traceparent becomes the parent of the upload's trace, which Kafka headers carry on.
    await context.with(extractTraceContext(request.headers), async () => {
      for (const { image, sourceName } of images) {
        const name = mode.batch ? sourceName : (input.options.sourceName ?? sourceName);
        outcomes.push(
          await deps.ingest.ingest(tenantId, image, { ...input.options, ...(name ? { sourceName: name } : {}) }),
        );
      }
    });
    const response = mode.batch ? batchResponse(outcomes) : singleResponse(outcomes[0]!);
    if (idempotencyKey) await deps.idempotency.complete(tenantId, idempotencyKey, fingerprint, response);
    return send(reply, response);
  } catch (error) {
    if (idempotencyKey) await deps.idempotency.release(tenantId, idempotencyKey).catch(() => undefined);
    throw error;
  }
}

function singleResponse(outcome: IngestOutcome): StoredResponse {
  const finished = outcome.deduplicated && outcome.status !== 'pending';
  return { statusCode: finished ? 200 : 202, body: accepted(outcome), location: imageLinks(outcome.imageId).self };
}

function batchResponse(outcomes: IngestOutcome[]): StoredResponse {
  return { statusCode: 202, body: { batchId: randomUUID(), images: outcomes.map(accepted) } };
}

function send(reply: FastifyReply, response: StoredResponse): FastifyReply {
  if (response.location) reply.header('location', response.location);
  return reply.code(response.statusCode).send(response.body);
}

function replay(reply: FastifyReply, response: StoredResponse): FastifyReply {
  reply.header('idempotent-replayed', 'true');
  return send(reply, response);
}
