/**
 * JSON schemas of the API's bodies, registered once (by $id) and referenced from routes. The image views are generated
 * from the result contract's shapes (packages/contracts: results.ts, image-view.ts), so the OpenAPI document
 * describes the contract field by field, and response serialisation (which drops whatever a schema does not list)
 * keeps every field the contract has.
 */
import {
  ImageAnalysis,
  ImageSummary,
  ImageView,
  type JsonSchema,
  jsonSchemaOf,
  UPLOAD_ANALYSES,
} from '@imgpipe/contracts';
import { recipeJsonSchema } from '@imgpipe/imaging/recipe';
import { problemSchema } from './problem-details.ts';
import { ROLES } from './roles.ts';

const string = { type: 'string' } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;
const imageStatus = jsonSchemaOf(ImageAnalysis.fields.status.shape);

export const imageViewSchema: JsonSchema = { $id: 'Image', ...jsonSchemaOf(ImageView) };

export const imageSummarySchema: JsonSchema = { $id: 'ImageSummary', ...jsonSchemaOf(ImageSummary) };

export const acceptedImageSchema = {
  $id: 'AcceptedImage',
  type: 'object',
  description: 'An accepted upload: its id and where to follow it',
  required: ['imageId', 'status', 'deduplicated', 'links'],
  properties: {
    imageId: jsonSchemaOf(ImageAnalysis.fields.imageId.shape),
    status: imageStatus,
    deduplicated: {
      type: 'boolean',
      description: 'true when the same bytes were uploaded recently and that image is returned instead',
    },
    sourceName: string,
    links: {
      type: 'object',
      required: ['self', 'events', 'annotated'],
      properties: { self: string, events: string, annotated: string },
    },
    result: { $ref: 'Image#', description: 'present when a deduplicated image is already finished' },
  },
} as const;

export const apiKeySchema = {
  $id: 'ApiKey',
  type: 'object',
  required: ['id', 'tenantId', 'role', 'name', 'createdAt'],
  properties: {
    id: string,
    tenantId: string,
    role: { type: 'string', enum: [...ROLES] },
    name: string,
    createdAt: dateTime,
    revokedAt: dateTime,
  },
} as const;

export const analysesProperty = {
  type: 'array',
  items: { type: 'string', enum: [...UPLOAD_ANALYSES] },
  description: 'analyses to run; empty or absent runs detect, faces and ocr; features (keypoints) only when named',
} as const;

export const SHARED_SCHEMAS = [
  problemSchema,
  imageViewSchema,
  imageSummarySchema,
  acceptedImageSchema,
  apiKeySchema,
  // The JSON form of an image recipe, as the imaging package defines it (POST /v1/transform's `recipe`).
  recipeJsonSchema(),
] as const;

const RETRY_AFTER = {
  type: 'string',
  pattern: '^[0-9]+$',
  description: 'seconds until a retry may succeed (rate limit refilled, dependency probed again)',
} as const;

/** The error responses a route documents, each as a Problem; 429 and 503 say when to retry. */
export function problemResponses(...statuses: number[]): Record<number, object> {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: `problem details (${status})`,
        ...(status === 429 || status === 503 ? { headers: { 'retry-after': RETRY_AFTER } } : {}),
        content: { 'application/problem+json': { schema: { $ref: 'Problem#' } } },
      },
    ]),
  );
}

/**
 * What any route that needs a caller can answer besides its own errors: no or bad credentials, a role too low, over
 * the rate limit, and 503 when what authentication needs is down (PostgreSQL for API keys; Redis for rate limits
 * when they fail closed).
 */
export const AUTH_PROBLEMS = [401, 403, 429, 503] as const;
