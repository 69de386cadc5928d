import { ERROR_CATALOGUE, type ErrorCode, ImgpipeError, isErrorCode } from '@imgpipe/core';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

/** RFC 9457 problem details, with imgpipe's stable error code. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance: string;
  retriable?: boolean;
  /** Which request parts failed validation. */
  errors?: { location: string; message: string }[];
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** A problem's `type`: a relative URI served by this API (GET /errors/{code} describes the code). */
export function problemType(code: ErrorCode): string {
  return `/errors/${code}`;
}

/** fastify's own error codes, and those of its plugins, in imgpipe's catalogue. */
function codeOfFrameworkError(error: FastifyError, imageBody: boolean): ErrorCode | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
      return imageBody ? 'IMAGE_TOO_LARGE' : 'REQUEST_TOO_LARGE';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return 'REQUEST_UNSUPPORTED_MEDIA_TYPE';
    case 'FST_ERR_VALIDATION':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_FILES_LIMIT':
    case 'FST_FIELDS_LIMIT':
    case 'FST_PARTS_LIMIT':
    case 'FST_PROTO_VIOLATION':
      return 'REQUEST_INVALID';
    default:
      return undefined;
  }
}

/**
 * A request refused by its schema only for naming rendition presets the deployment lacks (the upload schemas list its
 * presets: upload-schemas.ts) answers with that code, as the multipart fields and a direct check do.
 */
function validationCode(error: FastifyError): ErrorCode {
  const issues = error.validation ?? [];
  const unknownPreset = (issue: (typeof issues)[number]) =>
    /^\/renditions(\/\d+)?$/.test(issue.instancePath ?? '') &&
    (issue.keyword === 'pattern' || issue.keyword === 'enum');
  return issues.length > 0 && issues.every(unknownPreset) ? 'RENDITION_PRESET_UNKNOWN' : 'REQUEST_INVALID';
}

/** Client-library errors of the services behind the API, as the catalogue's retriable *_UNAVAILABLE codes. */
function dependencyCode(error: Error): ErrorCode | undefined {
  if (error.name?.startsWith('KafkaJS')) return 'KAFKA_UNAVAILABLE';
  if (error.name === 'MaxRetriesPerRequestError' || error.message?.startsWith('Connection is closed')) {
    return 'CACHE_UNAVAILABLE';
  }
  return undefined;
}

export function toProblem(error: unknown, request: FastifyRequest): Problem {
  const imageBody = Boolean((request.routeOptions?.config as { imageBody?: boolean } | undefined)?.imageBody);
  let code: ErrorCode;
  let detail: string;
  let details: Record<string, unknown> | undefined;
  let errors: Problem['errors'];
  if (error instanceof ImgpipeError) {
    code = error.code;
    detail = error.message;
    details = error.details as Record<string, unknown> | undefined;
  } else if (error instanceof SyntaxError && (error as FastifyError).statusCode === 400) {
    code = 'REQUEST_INVALID';
    detail = error.message;
  } else {
    const framework = error as FastifyError;
    const mapped = codeOfFrameworkError(framework, imageBody);
    if (mapped) {
      code = framework.code === 'FST_ERR_VALIDATION' ? validationCode(framework) : mapped;
      detail = framework.message;
      if (framework.validation) {
        errors = framework.validation.map((issue) => ({
          location: `${framework.validationContext ?? 'request'}${issue.instancePath ?? ''}`,
          message: issue.message ?? 'is invalid',
        }));
        detail = errors.map((issue) => `${issue.location} ${issue.message}`).join('; ');
      }
    } else if (dependencyCode(framework)) {
      code = dependencyCode(framework)!;
      detail = `${framework.name}: ${framework.message}`;
    } else if (isErrorCode(framework.code)) {
      code = framework.code;
      detail = framework.message;
    } else if (framework.statusCode !== undefined && framework.statusCode >= 400 && framework.statusCode < 500) {
      code = framework.statusCode === 404 ? 'RESOURCE_NOT_FOUND' : 'REQUEST_INVALID';
      detail = framework.message;
    } else {
      code = 'API_INTERNAL';
      detail = 'an unexpected error occurred; the request id identifies it in the logs';
    }
  }
  const definition = ERROR_CATALOGUE[code];
  return {
    type: problemType(code),
    title: definition.title,
    status: definition.httpStatus,
    detail,
    code,
    instance: request.url.split('?')[0] ?? request.url,
    requestId: request.id,
    ...(definition.retriable ? { retriable: true } : {}),
    ...(errors ? { errors } : {}),
    ...(details ? { details } : {}),
  };
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
}

/** JSON schema of a problem response, for every route's documented errors. */
export const problemSchema = {
  $id: 'Problem',
  type: 'object',
  description: 'RFC 9457 problem details',
  required: ['type', 'title', 'status', 'detail', 'code', 'instance'],
  properties: {
    type: { type: 'string', description: 'URI reference of the problem type: /errors/{code}' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string', enum: Object.keys(ERROR_CATALOGUE), description: 'stable imgpipe error code' },
    instance: { type: 'string' },
    requestId: { type: 'string' },
    retriable: { type: 'boolean' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        properties: { location: { type: 'string' }, message: { type: 'string' } },
      },
    },
    details: { type: 'object', additionalProperties: true },
  },
} as const;
