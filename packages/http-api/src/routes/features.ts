import { ImgpipeError } from '@imgpipe/core';
import { type FeatureOptions, normalizeFeatureOptions } from '@imgpipe/vision/features';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { principalOf } from '../fastify-types.ts';
import type { FeaturesService } from '../features-service.ts';
import { checkImage } from '../image-intake.ts';
import { type ImagePartsSpec, readImageParts } from '../image-parts.ts';
import { binary, imageRouteOptions, parseBodiesAsBytes } from '../image-route.ts';
import { MATCH_MAX_CORRESPONDENCES, MATCH_MIN_INLIERS, type MatchInput, type MatchService } from '../match-service.ts';
import { AUTH_PROBLEMS, problemResponses } from '../schemas.ts';

export interface FeaturesRoutesOptions {
  features: FeaturesService;
  match: MatchService;
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
  required: ['cached', 'sha256', 'detector', 'params', 'width', 'height', 'count', 'keypoints', 'descriptors'],
  properties: {
    cached: { type: 'boolean', description: 'answered from the cache (as X-Cache: hit says)' },
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

export const MATCH_DEFAULT_RATIO = 0.75;

/** A match's options: the detection's, and Lowe's ratio. */
export const MATCH_OPTIONS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...FEATURE_OPTIONS_SCHEMA.properties,
    ratio: {
      type: 'number',
      exclusiveMinimum: 0,
      maximum: 1,
      description: `Lowe's ratio test: a match is kept when its nearest descriptor is nearer than ratio x the second nearest (default ${MATCH_DEFAULT_RATIO}; 1 keeps every nearest neighbour)`,
    },
  },
} as const;

const MATCH_OPTION_NAMES: ReadonlySet<string> = new Set(Object.keys(MATCH_OPTIONS_SCHEMA.properties));

const MATCH_QUERY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...MATCH_OPTIONS_SCHEMA.properties,
    picture: {
      type: 'boolean',
      description:
        'answer the annotated side-by-side picture (image/jpeg) instead of JSON: inliers green, other matches red, ' +
        "A's outline projected into B blue; the figures in X-Match-* headers",
    },
  },
} as const;

const imageIdSchema = {
  type: 'string',
  pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
  description: "a stored image's id (UUID) of the caller's tenant",
} as const;

/** POST /v1/match as JSON: two stored images of the caller's tenant, and the options. */
const MATCH_IDS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['a', 'b'],
  properties: { a: imageIdSchema, b: imageIdSchema, ...MATCH_OPTIONS_SCHEMA.properties },
} as const;

const point = {
  type: 'object',
  additionalProperties: false,
  required: ['x', 'y'],
  properties: { x: { type: 'number' }, y: { type: 'number' } },
} as const;

const matchSideSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['sha256', 'width', 'height', 'count', 'cache'],
  properties: {
    id: { type: 'string', description: 'the stored image, when the side was one' },
    sha256: { type: 'string' },
    width: { type: 'integer', description: 'of the original: keypoints and the homography are in its pixels' },
    height: { type: 'integer' },
    count: { type: 'integer', description: 'keypoints detected' },
    cache: {
      type: 'string',
      enum: ['hit', 'miss', 'bypass'],
      description: 'whether its keypoints came from the features cache (shared with POST /v1/features/detect)',
    },
  },
} as const;

const matchSchema = {
  type: 'object',
  additionalProperties: false,
  required: [
    'detector',
    'params',
    'maxSide',
    'ratio',
    'a',
    'b',
    'matches',
    'inliers',
    'matched',
    'homography',
    'corners',
    'correspondences',
    'timings',
  ],
  properties: {
    detector: { type: 'string', enum: ['sift', 'orb'] },
    params: { type: 'object', additionalProperties: true, description: "the detector's complete parameters" },
    maxSide: { type: 'integer' },
    ratio: { type: 'number' },
    a: matchSideSchema,
    b: matchSideSchema,
    matches: { type: 'integer', description: "ratio-test matches from A's keypoints to B's" },
    inliers: { type: 'integer', description: 'matches the homography explains (reprojection error <= 3 px in B)' },
    matched: {
      type: 'boolean',
      description: `inliers >= ${MATCH_MIN_INLIERS}: the two images show the same planar scene or object`,
    },
    homography: {
      type: ['array', 'null'],
      items: { type: 'number' },
      minItems: 9,
      maxItems: 9,
      description: "row-major 3x3 from A's pixels to B's (h33 = 1); null when fewer than 4 matches agree",
    },
    corners: {
      type: ['array', 'null'],
      items: point,
      minItems: 4,
      maxItems: 4,
      description: "A's corners (0,0), (w-1,0), (w-1,h-1), (0,h-1) projected into B by the homography",
    },
    correspondences: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['a', 'b', 'distance'],
        properties: { a: point, b: point, distance: { type: 'number' } },
      },
      description: `inlier correspondences, smallest descriptor distance first, at most ${MATCH_MAX_CORRESPONDENCES}`,
    },
    timings: {
      type: 'object',
      additionalProperties: false,
      required: ['featuresMs', 'matchMs'],
      properties: { featuresMs: { type: 'number' }, matchMs: { type: 'number' } },
    },
  },
} as const;

const matchHeader = (description: string) => ({ schema: { type: 'string', pattern: '^[0-9]+$' }, description });

/** REQUEST_INVALID naming the first problem (at its path, or at `whole`) unless the value matches the schema. */
function checkAgainst(request: FastifyRequest, schema: object, value: unknown, whole: string): void {
  const validate = request.compileValidationSchema(schema);
  if (validate(value)) return;
  const issue = validate.errors?.[0];
  const where = issue?.instancePath ? issue.instancePath.slice(1) : whole;
  throw new ImgpipeError('REQUEST_INVALID', `${where} ${issue?.message ?? 'is invalid'}`.trim());
}

/** Options from the query string (typed by its schema) or multipart text fields (typed here, then validated). */
function readOptions(
  request: FastifyRequest,
  given: Record<string, unknown>,
  schema: object = FEATURE_OPTIONS_SCHEMA,
): { options: FeatureOptions; maxSide: number; ratio: number } {
  checkAgainst(request, schema, given, 'options');
  const { detector, maxSide, ratio, ...params } = given as { detector?: string; maxSide?: number; ratio?: number };
  return {
    options: normalizeFeatureOptions({ ...(detector ? { detector } : {}), params }),
    maxSide: maxSide ?? FEATURES_DEFAULT_MAX_SIDE,
    ratio: ratio ?? MATCH_DEFAULT_RATIO,
  };
}

/** The multipart form of a detection (`file`) or a match (`a` and `b`): its option fields' numbers typed here. */
function multipartParts(files: readonly string[], optionNames: ReadonlySet<string>): ImagePartsSpec {
  return {
    files,
    fields: optionNames,
    twice: (name) => (files.length === 1 ? 'one file per request' : `${name} given twice`),
    hint: `images go in ${files.join(' and ')}, options in ${[...optionNames].join(', ')}`,
    value: (sent) => {
      const value = String(sent);
      return NUMBER.test(value) ? Number(value) : value;
    },
  };
}

const DETECT_PARTS = multipartParts(['file'], OPTION_NAMES);
const MATCH_PARTS = multipartParts(['a', 'b'], MATCH_OPTION_NAMES);

/**
 * POST /v1/features/detect: SIFT or ORB keypoints and descriptors of one image (a raw body or a multipart `file`),
 * options in the query string or as multipart fields (a field wins over the same option in the query string, as for
 * uploads). Nothing is stored in S3 or PostgreSQL; answers
 * are cached in Redis by the bytes' SHA-256 and the normalised options (X-Cache: hit, miss, or bypass when Redis is
 * unavailable). Encapsulated: its catch-all body parser (any non-multipart body is image bytes) serves it only.
 */
export async function featuresRoutes(app: FastifyInstance, deps: FeaturesRoutesOptions): Promise<void> {
  const bodyLimit = deps.maxImageBytes;
  parseBodiesAsBytes(app, bodyLimit, ['text/plain', 'application/json']);

  app.post(
    '/v1/features/detect',
    {
      ...imageRouteOptions(bodyLimit, {
        multipart: { required: ['file'], properties: { file: binary, ...FEATURE_OPTIONS_SCHEMA.properties } },
        raw: true,
      }),
      schema: {
        operationId: 'detectFeatures',
        tags: ['features'],
        summary: 'SIFT or ORB keypoints and descriptors of an image (nothing is stored; cached in Redis)',
        description:
          'The image as a raw body or a multipart `file`; the options (detector, OpenCV parameters, maxSide) in the ' +
          'query string or as multipart fields. Keypoints are in pixels of the original image, strongest first; ' +
          'descriptors are base64, one byte per value. Answers are cached by the bytes’ SHA-256 and the normalised ' +
          'options: `cached` and X-Cache say hit, miss, or bypass (Redis unavailable; computed anyway). Option mistakes are 400 ' +
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
        const form = await readImageParts(request, DETECT_PARTS);
        bytes = form.files.get('file') ?? Buffer.alloc(0);
        given = { ...query, ...form.fields };
      } else {
        bytes = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      }
      const { options, maxSide } = readOptions(request, given);
      const image = checkImage(bytes, deps.maxImageBytes);
      const { body, cache } = await deps.features.detect(image, options, maxSide);
      return reply.header('x-cache', cache).type('application/json; charset=utf-8').send(body);
    },
  );

  app.post(
    '/v1/match',
    {
      ...imageRouteOptions(2 * bodyLimit + 64 * 1024, {
        multipart: { required: ['a', 'b'], properties: { a: binary, b: binary, ...MATCH_OPTIONS_SCHEMA.properties } },
        json: MATCH_IDS_SCHEMA,
      }),
      schema: {
        operationId: 'matchImages',
        tags: ['features'],
        summary: 'Match two images: ratio-test keypoint matches, a RANSAC homography, inliers (nothing is stored)',
        description:
          'Two uploads as multipart files `a` and `b`, or two stored images of the tenant as JSON `{"a": id, "b": id}`; ' +
          'the detection options (as POST /v1/features/detect, whose Redis cache serves both images) and `ratio` in ' +
          'the query string, as multipart fields or in the JSON body. The homography maps A’s pixels to B’s; ' +
          '`matched` when at least 10 matches agree on it. `picture=true` answers the annotated side-by-side ' +
          'picture as image/jpeg instead (figures in X-Match-Matches, X-Match-Inliers). Fewer than two images is ' +
          '400 MATCH_IMAGES_MISSING, an unknown stored id 404, image problems 413, 415 or 422 (docs/features.md).',
        querystring: MATCH_QUERY_SCHEMA,
        response: {
          200: {
            description: 'the match (JSON), or its picture with picture=true',
            headers: {
              'x-match-matches': matchHeader('with picture=true: ratio-test matches'),
              'x-match-inliers': matchHeader('with picture=true: inliers of the homography'),
            },
            content: { 'application/json': { schema: matchSchema }, 'image/jpeg': { schema: binary } },
          },
          ...problemResponses(400, 404, 413, 415, 422, ...AUTH_PROBLEMS),
        },
      },
    },
    async (request, reply) => {
      const { picture, ...query } = request.query as Record<string, unknown> & { picture?: boolean };
      let given: Record<string, unknown> = query;
      let inputs: [MatchInput, MatchInput];
      let settings: ReturnType<typeof readOptions>;
      if (request.isMultipart()) {
        const form = await readImageParts(request, MATCH_PARTS);
        given = { ...query, ...form.fields };
        settings = readOptions(request, given, MATCH_OPTIONS_SCHEMA);
        const a = form.files.get('a');
        const b = form.files.get('b');
        if (!a || !b) {
          throw new ImgpipeError('MATCH_IMAGES_MISSING', `got ${form.files.size} of the two files a and b`);
        }
        inputs = [{ image: checkImage(a, deps.maxImageBytes) }, { image: checkImage(b, deps.maxImageBytes) }];
      } else {
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const type = String(request.headers['content-type'] ?? '');
        if (body.byteLength === 0) {
          throw new ImgpipeError('MATCH_IMAGES_MISSING', 'the request has no body: send files a and b or ids a and b');
        }
        if (!/^application\/json\s*(;|$)/i.test(type)) {
          throw new ImgpipeError(
            'REQUEST_UNSUPPORTED_MEDIA_TYPE',
            'POST /v1/match takes multipart/form-data (files a and b) or application/json (ids a and b)',
          );
        }
        const ids = parseJsonObject(body);
        if (typeof ids['a'] !== 'string' || typeof ids['b'] !== 'string') {
          throw new ImgpipeError('MATCH_IMAGES_MISSING', 'the JSON body needs the stored image ids a and b');
        }
        checkAgainst(request, MATCH_IDS_SCHEMA, ids, 'body');
        const { a, b, ...options } = ids as { a: string; b: string };
        settings = readOptions(request, { ...query, ...options }, MATCH_OPTIONS_SCHEMA);
        const { tenantId } = principalOf(request);
        inputs = [await deps.match.stored(tenantId, a), await deps.match.stored(tenantId, b)];
      }
      const found = await deps.match.match(inputs, settings, { picture: picture === true });
      if (found.picture) {
        return reply
          .type('image/jpeg')
          .header('x-match-matches', String(found.body.matches))
          .header('x-match-inliers', String(found.body.inliers))
          .send(Buffer.from(found.picture.buffer, found.picture.byteOffset, found.picture.byteLength));
      }
      return reply.type('application/json; charset=utf-8').send(JSON.stringify(found.body));
    },
  );
}

/** A JSON body that must be an object (any other JSON, or none, is REQUEST_INVALID). */
function parseJsonObject(body: Buffer): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ImgpipeError('REQUEST_INVALID', 'the body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ImgpipeError('REQUEST_INVALID', 'the body must be a JSON object with the ids a and b');
  }
  return parsed as Record<string, unknown>;
}
