import { ImgpipeError } from '@imgpipe/core';
import { type FeatureOptions, normalizeFeatureOptions } from '@imgpipe/vision/features';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { FeaturesService } from '../features-service.ts';
import { checkImage } from '../image-intake.ts';
import { AUTH_PROBLEMS, problemResponses } from '../schemas.ts';

export interface FeaturesRoutesOptions {
  features: FeaturesService;
  /** The API's upload cap (IMGPIPE_API_MAX_IMAGE_BYTES): larger bodies are 413. */
  maxImageBytes: number;
}

export const FEATURES_DEFAULT_MAX_SIDE = 1280;

/**
 * The options of a detection: the detector, OpenCV's parameters (docs/features.md; which apply depends on the
 * detector, and a parameter of the other one is REQUEST_INVALID), and the size detection runs at.
 */
export const FEATURE_OPTIONS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    detector: { type: 'string', enum: ['sift', 'orb'], description: 'default sift' },
    nfeatures: {
      type: 'integer',
      minimum: 0,
      maximum: 100_000,
      description: 'keep the best n keypoints (SIFT default 0 = all, ORB default 500, at least 1)',
    },
    nOctaveLayers: { type: 'integer', minimum: 1, maximum: 10, description: 'SIFT, default 3' },
    contrastThreshold: { type: 'number', minimum: 0, maximum: 1, description: 'SIFT, default 0.04' },
    edgeThreshold: {
      type: 'number',
      exclusiveMinimum: 0,
      maximum: 1000,
      description: 'SIFT default 10 (> 0); ORB default 31 (a whole number 3-256)',
    },
    sigma: { type: 'number', exclusiveMinimum: 0, maximum: 10, description: 'SIFT, default 1.6' },
    scaleFactor: { type: 'number', exclusiveMinimum: 1, maximum: 2, description: 'ORB, default 1.2' },
    nlevels: { type: 'integer', minimum: 1, maximum: 16, description: 'ORB, default 8' },
    fastThreshold: { type: 'integer', minimum: 0, maximum: 255, description: 'ORB, default 20' },
    scoreType: { type: 'string', enum: ['harris', 'fast'], description: 'ORB, default harris' },
    maxSide: {
      type: 'integer',
      minimum: 64,
      maximum: 1920,
      description: `detect on a copy whose long side is at most this (default ${FEATURES_DEFAULT_MAX_SIDE}); coordinates are the original's`,
    },
  },
} as const;

const OPTION_NAMES: ReadonlySet<string> = new Set(Object.keys(FEATURE_OPTIONS_SCHEMA.properties));
const NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?$/;

const keypointSchema = {
  type: 'object',
  required: ['x', 'y', 'size', 'angle', 'response', 'octave'],
  properties: {
    x: { type: 'number' },
    y: { type: 'number' },
    size: { type: 'number' },
    angle: { type: 'number' },
    response: { type: 'number' },
    octave: { type: 'integer' },
  },
} as const;

const featuresSchema = {
  type: 'object',
  required: ['sha256', 'detector', 'params', 'width', 'height', 'count', 'keypoints', 'descriptors'],
  properties: {
    sha256: { type: 'string', description: 'SHA-256 of the image bytes (hex)' },
    detector: { type: 'string', enum: ['sift', 'orb'] },
    params: { type: 'object', additionalProperties: true, description: "the detector's complete parameters" },
    maxSide: { type: 'integer' },
    width: { type: 'integer', description: 'width of the image the coordinates refer to (the original)' },
    height: { type: 'integer' },
    count: { type: 'integer' },
    keypoints: { type: 'array', items: keypointSchema, description: 'strongest response first' },
    descriptorType: { type: 'string', enum: ['float32', 'binary'] },
    descriptorSize: { type: 'integer', description: 'bytes per keypoint in descriptors: 128 SIFT, 32 ORB' },
    descriptors: {
      type: 'string',
      contentEncoding: 'base64',
      description: 'one byte per value, keypoint after keypoint (SIFT values are whole numbers 0-255)',
    },
    timings: {
      type: 'object',
      properties: { decodeMs: { type: 'number' }, greyMs: { type: 'number' }, detectMs: { type: 'number' } },
    },
  },
} as const;

const binary = { type: 'string', format: 'binary' } as const;

/** Options from the query string (typed by its schema) or multipart text fields (typed here, then validated). */
function readOptions(
  request: FastifyRequest,
  given: Record<string, unknown>,
): { options: FeatureOptions; maxSide: number } {
  const validate = request.compileValidationSchema(FEATURE_OPTIONS_SCHEMA);
  if (!validate(given)) {
    const issue = validate.errors?.[0];
    const where = issue?.instancePath ? issue.instancePath.slice(1) : 'options';
    throw new ImgpipeError('REQUEST_INVALID', `${where} ${issue?.message ?? 'is invalid'}`.trim());
  }
  const { detector, maxSide, ...params } = given as { detector?: string; maxSide?: number };
  return {
    options: normalizeFeatureOptions({ ...(detector ? { detector } : {}), params }),
    maxSide: maxSide ?? FEATURES_DEFAULT_MAX_SIDE,
  };
}

async function readMultipart(request: FastifyRequest): Promise<{ bytes: Buffer; fields: Record<string, unknown> }> {
  let bytes: Buffer | undefined;
  const fields: Record<string, unknown> = {};
  try {
    for await (const part of request.parts()) {
      if (part.fieldname === 'file' && part.type === 'file') {
        if (bytes) throw new ImgpipeError('REQUEST_INVALID', 'one file per request');
        bytes = await part.toBuffer();
      } else if (OPTION_NAMES.has(part.fieldname) && part.type === 'field') {
        if (part.fieldname in fields) throw new ImgpipeError('REQUEST_INVALID', `${part.fieldname} given twice`);
        const value = String(part.value);
        fields[part.fieldname] = NUMBER.test(value) ? Number(value) : value;
      } else {
        throw new ImgpipeError(
          'REQUEST_INVALID',
          `unexpected multipart part ${JSON.stringify(part.fieldname)}: the image goes in file, options in ${[...OPTION_NAMES].join(', ')}`,
        );
      }
    }
  } catch (error) {
    if (error instanceof ImgpipeError) throw error;
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('FST_')) throw error;
    throw new ImgpipeError(
      'REQUEST_MULTIPART_INVALID',
      `the multipart body is malformed: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  return { bytes: bytes ?? Buffer.alloc(0), fields };
}

/**
 * POST /v1/features/detect: SIFT or ORB keypoints and descriptors of one image (a raw body or a multipart `file`),
 * options in the query string or as multipart fields (a field wins over the same option in the query string, as for
 * uploads). Nothing is stored in S3 or PostgreSQL; answers
 * are cached in Redis by the bytes' SHA-256 and the normalised options (X-Cache: hit, miss, or bypass when Redis is
 * unavailable). Encapsulated: its catch-all body parser (any non-multipart body is image bytes) serves it only.
 */
export async function featuresRoutes(app: FastifyInstance, deps: FeaturesRoutesOptions): Promise<void> {
  const bodyLimit = deps.maxImageBytes;
  app.removeContentTypeParser(['text/plain', 'application/json']);
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => done(null, body));

  app.post(
    '/v1/features/detect',
    {
      bodyLimit,
      config: {
        auth: 'uploader',
        imageBody: true,
        openapiBody: {
          required: true,
          content: {
            'multipart/form-data': {
              schema: {
                type: 'object',
                additionalProperties: false,
                required: ['file'],
                properties: { file: binary, ...FEATURE_OPTIONS_SCHEMA.properties },
              },
            },
            'image/*': { schema: binary },
            'application/octet-stream': { schema: binary },
          },
        },
      },
      schema: {
        operationId: 'detectFeatures',
        tags: ['features'],
        summary: 'SIFT or ORB keypoints and descriptors of an image (nothing is stored; cached in Redis)',
        description:
          'The image as a raw body or a multipart `file`; the options (detector, OpenCV parameters, maxSide) in the ' +
          'query string or as multipart fields. Keypoints are in pixels of the original image, strongest first; ' +
          'descriptors are base64, one byte per value. Answers are cached by the bytes’ SHA-256 and the normalised ' +
          'options: X-Cache says hit, miss, or bypass (Redis unavailable; computed anyway). Option mistakes are 400 ' +
          'REQUEST_INVALID, image problems 413, 415 or 422 (docs/features.md).',
        querystring: FEATURE_OPTIONS_SCHEMA,
        response: {
          200: {
            description: 'the keypoints and descriptors',
            headers: { 'x-cache': { type: 'string', enum: ['hit', 'miss', 'bypass'] } },
            content: { 'application/json': { schema: featuresSchema } },
          },
          ...problemResponses(400, 413, 415, 422, ...AUTH_PROBLEMS),
        },
      },
    },
    async (request, reply) => {
      const query = request.query as Record<string, unknown>;
      let bytes: Buffer;
      let given: Record<string, unknown> = query;
      if (request.isMultipart()) {
        const form = await readMultipart(request);
        bytes = form.bytes;
        given = { ...query, ...form.fields };
      } else {
        bytes = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      }
      const { options, maxSide } = readOptions(request, given);
      const image = checkImage(bytes, deps.maxImageBytes);
      const result = await deps.features.detect(image, options, maxSide);
      return reply.header('x-cache', result.cache).type('application/json; charset=utf-8').send(result.body);
    },
  );
}
