/**
 * JSON schemas of the API's bodies, registered once (by $id) and referenced from routes, so the OpenAPI document
 * describes the result contract (packages/contracts/src/results.ts) field by field. Response schemas also drive
 * serialisation: a field missing here would be dropped from responses, so these follow results.ts exactly.
 */
import { ANALYSES, STAGES } from '@imgpipe/contracts';
import { ERROR_CATALOGUE } from '@imgpipe/core';
import { problemSchema } from './problem-details.ts';
import { ROLES } from './roles.ts';

const number = { type: 'number' } as const;
const integer = { type: 'integer' } as const;
const string = { type: 'string' } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;

const point = { type: 'object', required: ['x', 'y'], properties: { x: number, y: number } } as const;
const pixelBox = {
  type: 'object',
  description: 'pixels of the image after EXIF orientation',
  required: ['x', 'y', 'width', 'height'],
  properties: { x: number, y: number, width: number, height: number },
} as const;
const normalizedBox = {
  type: 'object',
  description: 'fractions 0-1 of the oriented image',
  required: ['left', 'top', 'width', 'height'],
  properties: { left: number, top: number, width: number, height: number },
} as const;
const stageError = {
  type: 'object',
  required: ['code', 'message'],
  properties: { code: { type: 'string', enum: Object.keys(ERROR_CATALOGUE) }, message: string },
} as const;
const model = {
  type: 'object',
  required: ['name', 'version', 'sha256'],
  properties: { name: string, version: string, sha256: string },
} as const;
const stageReport = {
  type: 'object',
  required: ['status'],
  properties: {
    status: { type: 'string', enum: ['pending', 'running', 'completed', 'failed', 'skipped'] },
    error: stageError,
    model,
    durationMs: number,
  },
} as const;
const imageStatus = { type: 'string', enum: ['pending', 'completed', 'partial', 'failed'] } as const;

const imageInfo = {
  type: 'object',
  required: ['width', 'height', 'format', 'bytes', 'sha256', 'hasAlpha', 'exif', 'colors', 'quality', 'perceptualHash'],
  properties: {
    width: integer,
    height: integer,
    format: string,
    bytes: integer,
    sha256: string,
    hasAlpha: { type: 'boolean' },
    exif: {
      type: 'object',
      required: ['hasGps'],
      properties: {
        make: string,
        model: string,
        takenAt: string,
        orientation: integer,
        hasGps: { type: 'boolean' },
        gps: { type: 'object', properties: { latitude: number, longitude: number } },
      },
    },
    colors: {
      type: 'array',
      items: { type: 'object', required: ['hex', 'share'], properties: { hex: string, share: number } },
    },
    quality: {
      type: 'object',
      required: ['brightness', 'contrast', 'sharpness'],
      properties: { brightness: number, contrast: number, sharpness: number },
    },
    perceptualHash: string,
  },
} as const;

const detectedObject = {
  type: 'object',
  required: ['label', 'classId', 'confidence', 'box', 'boxNormalized'],
  properties: { label: string, classId: integer, confidence: number, box: pixelBox, boxNormalized: normalizedBox },
} as const;
const detectedFace = {
  type: 'object',
  required: ['confidence', 'box', 'boxNormalized', 'landmarks'],
  properties: {
    confidence: number,
    box: pixelBox,
    boxNormalized: normalizedBox,
    landmarks: {
      type: 'object',
      required: ['rightEye', 'leftEye', 'nose', 'mouthRight', 'mouthLeft'],
      properties: { rightEye: point, leftEye: point, nose: point, mouthRight: point, mouthLeft: point },
    },
  },
} as const;
const textLine = {
  type: 'object',
  required: ['text', 'confidence', 'polygon', 'box', 'boxNormalized'],
  properties: {
    text: string,
    confidence: number,
    polygon: { type: 'array', items: point },
    box: pixelBox,
    boxNormalized: normalizedBox,
    words: {
      type: 'array',
      items: {
        type: 'object',
        required: ['text', 'confidence', 'polygon'],
        properties: { text: string, confidence: number, polygon: { type: 'array', items: point } },
      },
    },
  },
} as const;

export const imageViewSchema = {
  $id: 'Image',
  type: 'object',
  description: 'One image: status, per-stage status and the result contract',
  required: [
    'imageId',
    'tenantId',
    'status',
    'requestedAnalyses',
    'labels',
    'objects',
    'faces',
    'text',
    'textInObjects',
    'stages',
    'createdAt',
    'updatedAt',
  ],
  properties: {
    imageId: { type: 'string', format: 'uuid' },
    tenantId: string,
    sourceName: string,
    contentType: string,
    status: imageStatus,
    requestedAnalyses: { type: 'array', items: { type: 'string', enum: [...ANALYSES] } },
    error: stageError,
    image: imageInfo,
    labels: {
      type: 'array',
      items: {
        type: 'object',
        required: ['label', 'count', 'confidence'],
        properties: { label: string, count: integer, confidence: number },
      },
    },
    objects: { type: 'array', items: detectedObject },
    faces: { type: 'array', items: detectedFace },
    text: {
      type: 'object',
      required: ['fullText', 'lines'],
      properties: { fullText: string, lines: { type: 'array', items: textLine } },
    },
    textInObjects: {
      type: 'array',
      items: { type: 'object', required: ['line', 'object'], properties: { line: integer, object: integer } },
    },
    stages: {
      type: 'object',
      required: [...STAGES],
      properties: Object.fromEntries(STAGES.map((stage) => [stage, stageReport])),
    },
    createdAt: dateTime,
    updatedAt: dateTime,
    completedAt: dateTime,
    deadlineAt: dateTime,
  },
} as const;

export const imageSummarySchema = {
  $id: 'ImageSummary',
  type: 'object',
  required: ['imageId', 'status', 'labels', 'createdAt'],
  properties: {
    imageId: { type: 'string', format: 'uuid' },
    sourceName: string,
    status: imageStatus,
    width: integer,
    height: integer,
    format: string,
    labels: { type: 'array', items: string },
    error: stageError,
    createdAt: dateTime,
    completedAt: dateTime,
  },
} as const;

export const acceptedImageSchema = {
  $id: 'AcceptedImage',
  type: 'object',
  description: 'An accepted upload: its id and where to follow it',
  required: ['imageId', 'status', 'deduplicated', 'links'],
  properties: {
    imageId: { type: 'string', format: 'uuid' },
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
  items: { type: 'string', enum: [...ANALYSES] },
  description: 'analyses to run; empty or absent runs all',
} as const;

export const SHARED_SCHEMAS = [
  problemSchema,
  imageViewSchema,
  imageSummarySchema,
  acceptedImageSchema,
  apiKeySchema,
] as const;

/** The error responses a route documents, each as a Problem. */
export function problemResponses(...statuses: number[]): Record<number, object> {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: `problem details (${status})`,
        content: { 'application/problem+json': { schema: { $ref: 'Problem#' } } },
      },
    ]),
  );
}

export const AUTH_PROBLEMS = [401, 403, 429] as const;
