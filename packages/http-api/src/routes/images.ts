import { type ImageStatus, STAGES } from '@imgpipe/contracts';
import { ImgpipeError } from '@imgpipe/core';
import {
  type Database,
  getImage,
  type ImageView,
  isImageId,
  type ProgressEvent,
  progressChannel,
  type ResultsCache,
  searchImages,
} from '@imgpipe/results';
import { originalKey } from '@imgpipe/storage';
import { annotateImage } from '@imgpipe/vision/annotate';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { DependencyBreakers } from '../dependency-breakers.ts';
import { principalOf } from '../fastify-types.ts';
import type { ReadPool } from '../read-pool.ts';
import type { ProgressHub } from '../progress-hub.ts';
import { AUTH_PROBLEMS, imageViewSchema, problemResponses } from '../schemas.ts';
import { checkCursor } from '../search-cursor.ts';
import { nameSchema, textSchema } from '../text-rules.ts';

export interface ImageRoutesOptions {
  /** The primary: one image (read-your-writes right after an upload), its original's location. */
  db: Kysely<Database>;
  /**
   * Search: a streaming replica when one is configured (it may lag the primary), else the primary; the primary
   * answers while the replica cannot (read-pool.ts).
   */
  reads: ReadPool;
  cache: ResultsCache;
  hub: ProgressHub;
  blobs: { readonly bucket: string; get(ref: { bucket: string; key: string; sha256?: string }): Promise<Buffer> };
  breakers: DependencyBreakers;
  /** Comment line sent to keep idle SSE connections open through proxies. Default 15 s. */
  heartbeatMs?: number;
}

const TERMINAL: ReadonlySet<ImageStatus> = new Set(['completed', 'partial', 'failed']);
const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', maxLength: 100, description: 'image id (UUID)' } },
} as const;

/** One Server-Sent Event as OpenAPI 3.1 describes a stream's items: its name, its id, and its JSON data. */
function sseEvent(event: string, description: string, data: object) {
  return {
    type: 'object',
    description,
    required: ['event', 'data'],
    properties: {
      event: { const: event },
      id: { type: 'string', description: "the image's version (updatedAt) after the change" },
      data: { type: 'string', contentMediaType: 'application/json', contentSchema: data },
    },
  };
}

const viewProperties = imageViewSchema.properties as Record<string, object>;
const progress = {
  imageId: viewProperties['imageId']!,
  status: viewProperties['status']!,
  updatedAt: viewProperties['updatedAt']!,
};
const stageStatus = { type: 'string', enum: ['pending', 'running', 'completed', 'failed', 'skipped'] };

/** The events of GET /v1/images/{id}/events, for the OpenAPI document (the stream is written by hand). */
const EVENT_STREAM_RESPONSE = {
  description: 'an event stream: `image` first, then `stage` events, then `result`, after which it ends',
  content: {
    'text/event-stream': {
      schema: {
        oneOf: [
          sseEvent('image', 'the image as it is: first (with its stages), and when its status changes', {
            type: 'object',
            required: ['imageId', 'status', 'updatedAt'],
            properties: { ...progress, stages: viewProperties['stages']! },
          }),
          sseEvent('stage', 'one stage changed', {
            type: 'object',
            required: ['imageId', 'status', 'stage', 'updatedAt'],
            properties: {
              ...progress,
              stage: { type: 'string', enum: [...STAGES] },
              stageStatus,
            },
          }),
          sseEvent('result', 'the finished image, as GET /v1/images/{id} returns it; the stream then ends', {
            $ref: 'Image#',
          }),
        ],
      },
    },
  },
} as const;

/** Every read of an image needs PostgreSQL (or its Redis view): 503 when they are down. */
const READ_PROBLEMS = [400, ...AUTH_PROBLEMS, 404, 503] as const;

function notFound(id: string): ImgpipeError {
  return new ImgpipeError('RESOURCE_NOT_FOUND', `no image ${id}`);
}

/**
 * The tenant's image, from the Redis latest view when it has one, else PostgreSQL: with Redis down (or its circuit
 * open) reads fall back to PostgreSQL. Another tenant's id is 404.
 */
async function readImage(deps: ImageRoutesOptions, tenantId: string, id: string): Promise<ImageView> {
  if (!isImageId(id)) throw notFound(id);
  const imageId = id.toLowerCase();
  const cached = await deps.breakers.cache(() => deps.cache.getLatest(tenantId, imageId)).catch(() => undefined);
  if (cached && cached.tenantId === tenantId) return cached;
  const view = await deps.breakers.database(() => getImage(deps.db, tenantId, imageId));
  if (!view) throw notFound(id);
  return view;
}

/**
 * Reading images: search, one image, its annotated rendering, and Server-Sent Events of its progress (a shared Redis
 * subscriber, src/progress-hub.ts). Every route needs the viewer role; another tenant's image is 404.
 */
export async function imageRoutes(app: FastifyInstance, deps: ImageRoutesOptions): Promise<void> {
  // Open event streams end when the server stops, so a graceful shutdown is not held open by idle listeners.
  const streams = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const finish of streams) finish();
  });
  app.get(
    '/v1/images',
    {
      config: { auth: 'viewer' },
      schema: {
        operationId: 'searchImages',
        tags: ['images'],
        summary: "Search the tenant's images by label, OCR text, barcode or QR code, status and age, newest first",
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            label: nameSchema(200, { description: 'images with this label (exact name)' }),
            text: textSchema(1000, {
              description: 'words in the OCR text (web-search syntax: "phrase", or, -word)',
            }),
            code: textSchema(4000, {
              description: 'images with a barcode or QR code whose decoded text is exactly this (text.codes)',
            }),
            status: { type: 'string', enum: ['pending', 'completed', 'partial', 'failed'] },
            since: { type: 'string', format: 'date-time', description: 'created at or after' },
            cursor: {
              type: 'string',
              maxLength: 500,
              description: 'nextCursor of the previous page; empty or absent for the first page',
            },
            limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
          },
        },
        response: {
          200: {
            description: 'one page of results',
            type: 'object',
            required: ['items'],
            properties: {
              items: { type: 'array', items: { $ref: 'ImageSummary#' } },
              nextCursor: { type: 'string', description: 'present when there may be more' },
            },
          },
          ...problemResponses(400, ...AUTH_PROBLEMS, 503),
        },
      },
    },
    async (request) => {
      const query = request.query as {
        label?: string;
        text?: string;
        code?: string;
        status?: ImageStatus;
        since?: string;
        cursor?: string;
        limit?: number;
      };
      const cursor = query.cursor ? checkCursor(query.cursor) : undefined;
      return deps.reads.run((db) =>
        searchImages(db, {
          tenantId: principalOf(request).tenantId,
          ...(query.label !== undefined ? { label: query.label } : {}),
          ...(query.text !== undefined ? { text: query.text } : {}),
          ...(query.code !== undefined ? { code: query.code } : {}),
          ...(query.status !== undefined ? { status: query.status } : {}),
          ...(query.since !== undefined ? { since: new Date(query.since) } : {}),
          ...(cursor !== undefined ? { cursor } : {}),
          ...(query.limit !== undefined ? { limit: query.limit } : {}),
        }),
      );
    },
  );

  app.get(
    '/v1/images/:id',
    {
      config: { auth: 'viewer' },
      schema: {
        operationId: 'getImage',
        tags: ['images'],
        summary: 'Status, per-stage status and results of one image',
        params: idParams,
        response: { 200: { description: 'the image', $ref: 'Image#' }, ...problemResponses(...READ_PROBLEMS) },
      },
    },
    async (request) => readImage(deps, principalOf(request).tenantId, (request.params as { id: string }).id),
  );

  app.get(
    '/v1/images/:id/annotated',
    {
      config: { auth: 'viewer' },
      schema: {
        operationId: 'getAnnotatedImage',
        tags: ['images'],
        summary: 'The image with object boxes, faces and text lines (and on request keypoints) drawn on it',
        description:
          '`keypoints=true` also draws the keypoints of its `features` (the strongest few the features stage ' +
          'stored): a magenta circle of radius size / 2 and a radius along the angle, as OpenCV’s drawKeypoints ' +
          'with DRAW_RICH_KEYPOINTS. 409 IMAGE_FEATURES_UNAVAILABLE when the image has no features (it did not ' +
          'ask for analyses=features, its features stage failed, or it has not completed yet).',
        params: idParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            format: { type: 'string', enum: ['png', 'jpeg'], default: 'png' },
            maxSide: { type: 'integer', minimum: 16, maximum: 8192, description: 'long side of the output' },
            keypoints: {
              type: 'boolean',
              default: false,
              description: 'also draw the keypoints of the image’s features (analyses=features)',
            },
          },
        },
        response: {
          200: {
            description: 'the annotated image',
            content: {
              'image/png': { schema: { type: 'string', format: 'binary' } },
              'image/jpeg': { schema: { type: 'string', format: 'binary' } },
            },
          },
          // 409: keypoints=true for an image without features.
          ...problemResponses(...READ_PROBLEMS, 409, 422),
        },
      },
    },
    async (request, reply) => {
      const { tenantId } = principalOf(request);
      const { id } = request.params as { id: string };
      const query = request.query as { format?: 'png' | 'jpeg'; maxSide?: number; keypoints?: boolean };
      const { format = 'png', maxSide } = query;
      const view = await readImage(deps, tenantId, id);
      const keypoints = query.keypoints ? keypointsOf(view) : undefined;
      const original = await originalOf(deps, tenantId, view.imageId);
      const bytes = await deps.breakers.storage(() => deps.blobs.get(original));
      const annotated = await annotateImage(
        bytes,
        { objects: view.objects, faces: view.faces, text: view.text.lines, ...(keypoints ? { keypoints } : {}) },
        { format, ...(maxSide ? { maxSide } : {}) },
      );
      return reply
        .type(format === 'jpeg' ? 'image/jpeg' : 'image/png')
        .header('cache-control', TERMINAL.has(view.status) ? 'private, max-age=3600' : 'no-store')
        .send(Buffer.from(annotated));
    },
  );

  app.get(
    '/v1/images/:id/events',
    {
      config: { auth: 'viewer', openapiResponses: { 200: EVENT_STREAM_RESPONSE } },
      schema: {
        operationId: 'streamImageEvents',
        tags: ['images'],
        summary: 'Server-Sent Events of stage progress until the image is finished',
        description:
          'Events: `image` (the current status and stages, first), `stage` (a stage changed), `result` (the full ' +
          "image once finished; the stream then ends). Each event's `id` is the image's version (`updatedAt`). A " +
          'comment line every 15 s keeps the connection open. Needs Redis (503 while it is unavailable).',
        params: idParams,
        response: {
          200: {
            description: 'an event stream',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
          ...problemResponses(...READ_PROBLEMS),
        },
      },
    },
    (request, reply) => streamEvents(deps, request, reply, streams),
  );
}

/** The stored keypoints of an image, for keypoints=true; 409 when it has none, saying why. */
function keypointsOf(view: ImageView) {
  if (view.features) return view.features.keypoints;
  const why =
    view.featuresStage?.status === 'failed'
      ? `its features stage failed (${view.featuresStage.error?.code ?? 'unknown error'})`
      : view.requestedAnalyses?.includes('features') || view.featuresStage
        ? 'its features stage has not completed yet'
        : 'it did not ask for them (upload it with analyses=features)';
  throw new ImgpipeError('IMAGE_FEATURES_UNAVAILABLE', `image ${view.imageId} has no keypoint features: ${why}`);
}

async function originalOf(deps: ImageRoutesOptions, tenantId: string, imageId: string) {
  const row = await deps.breakers.database(() =>
    deps.db
      .selectFrom('images')
      .select(['blob_bucket', 'blob_key', 'sha256'])
      .where('id', '=', imageId)
      .where('tenant_id', '=', tenantId)
      .executeTakeFirst(),
  );
  if (!row) throw notFound(imageId);
  if (row.blob_bucket && row.blob_key) return { bucket: row.blob_bucket, key: row.blob_key };
  // An inline upload from a direct producer: preprocess stored it content-addressed.
  if (row.sha256) return { bucket: deps.blobs.bucket, key: originalKey(tenantId, row.sha256) };
  throw new ImgpipeError('STORAGE_OBJECT_NOT_FOUND', `image ${imageId} has no stored original yet`);
}

function stageSummary(view: ImageView) {
  return { imageId: view.imageId, status: view.status, stages: view.stages, updatedAt: view.updatedAt };
}

async function streamEvents(
  deps: ImageRoutesOptions,
  request: FastifyRequest,
  reply: FastifyReply,
  streams: Set<() => void>,
): Promise<void> {
  const { tenantId } = principalOf(request);
  const first = await readImage(deps, tenantId, (request.params as { id: string }).id);
  const imageId = first.imageId;
  // Subscribe before answering, then read the state: a change between the two is seen twice, never missed. Without
  // Redis there would be no progress to stream, so the request is refused (503) rather than answered with silence.
  const early: string[] = [];
  let deliver: (message: string) => void = (message) => {
    early.push(message);
  };
  const unsubscribe = await deps.breakers.cache(() =>
    deps.hub.subscribe(progressChannel(tenantId, imageId), (message) => deliver(message)),
  );
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    ...(reply.getHeaders() as Record<string, string>),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  let closed = false;
  const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), deps.heartbeatMs ?? 15_000);
  const finish = () => {
    if (closed) return;
    closed = true;
    streams.delete(finish);
    clearInterval(heartbeat);
    void unsubscribe();
    raw.end();
  };
  raw.on('close', finish);
  streams.add(finish);
  const send = (event: string, data: unknown, id?: string) => {
    if (closed) return;
    raw.write(`${id ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const latest = async () => (await deps.breakers.database(() => getImage(deps.db, tenantId, imageId))) ?? first;
  const sendResult = async () => {
    const view = await latest();
    send('result', view, view.updatedAt);
    finish();
  };
  // Notifications are handled one at a time, in order.
  let queue = Promise.resolve();
  const onMessage = (message: string) => {
    queue = queue
      .then(async () => {
        if (closed) return;
        const event = JSON.parse(message) as ProgressEvent;
        if (event.stage) send('stage', event, event.updatedAt);
        else send('image', { imageId, status: event.status, updatedAt: event.updatedAt }, event.updatedAt);
        if (TERMINAL.has(event.status)) await sendResult();
      })
      .catch((error: unknown) => {
        request.log.warn({ err: (error as Error).message, imageId }, 'progress stream failed');
        finish();
      });
  };
  try {
    const current = await latest();
    send('image', stageSummary(current), current.updatedAt);
    if (TERMINAL.has(current.status)) {
      send('result', current, current.updatedAt);
      finish();
      return;
    }
    deliver = onMessage;
    for (const message of early.splice(0)) onMessage(message);
  } catch (error) {
    request.log.warn({ err: (error as Error).message, imageId }, 'progress stream failed');
    finish();
  }
}
