/**
 * The one catalogue of imgpipe error codes. Codes are stable once published: a code is never renamed or reused,
 * only added. Every error says whether retrying the same input could succeed (`retriable`), which decides between
 * retry-with-backoff and the dead-letter topic, and which HTTP status it maps to at the API edge.
 *
 * Documented for users in docs/errors.md; a test keeps the two in step.
 */
export interface ErrorDefinition {
  /** Short human explanation; the thrown error's message adds the specifics. */
  readonly title: string;
  readonly retriable: boolean;
  readonly httpStatus: number;
}

function def(title: string, httpStatus: number, retriable = false): ErrorDefinition {
  return { title, retriable, httpStatus };
}

export const ERROR_CATALOGUE = {
  // Image input: deterministic, never retried.
  IMAGE_EMPTY: def('The image has zero bytes', 422),
  IMAGE_UNSUPPORTED_FORMAT: def('The bytes are not an image format imgpipe accepts', 415),
  IMAGE_CORRUPT: def('The image could not be decoded', 422),
  IMAGE_TRUNCATED: def('The image data ends before the image does', 422),
  IMAGE_TOO_MANY_PIXELS: def('The image has more pixels than the configured limit', 422),
  IMAGE_TOO_LARGE: def('The image has more bytes than the configured limit', 413),
  IMAGE_CHECKSUM_MISMATCH: def('The image bytes do not match the SHA-256 in the event', 422),
  IMAGE_TOO_MANY_FRAMES: def('The animated image has more frames than the configured limit', 422),

  // Image operations (recipes and transforms): recipe mistakes are the caller's (400), the rest depend on the image.
  RECIPE_INVALID: def('The recipe is not well formed', 400),
  RECIPE_UNKNOWN_OPERATION: def('The recipe names an operation that does not exist', 400),
  RECIPE_INVALID_ARGUMENT: def('An operation of the recipe has a missing, malformed or out-of-range argument', 400),
  RECIPE_TOO_MANY_OPERATIONS: def('The recipe has more operations than the configured limit', 400),
  RECIPE_KERNEL_TOO_LARGE: def('A blur sigma or filter kernel of the recipe is larger than the configured limit', 400),
  TRANSFORM_OUTPUT_TOO_MANY_PIXELS: def('The output would have more pixels than the configured limit', 422),
  TRANSFORM_CROP_OUTSIDE_IMAGE: def('A crop box lies outside the image', 422),
  TRANSFORM_DETECTIONS_UNAVAILABLE: def('The recipe crops around detections and none are available', 422),
  TRANSFORM_FAILED: def('The image could not be transformed', 500),
  RENDITION_SIGNATURE_MISSING: def('The rendition URL is not signed (expires and signature are required)', 403),
  RENDITION_SIGNATURE_INVALID: def('The rendition URL signature does not match its path and expiry', 403),
  RENDITION_SIGNATURE_EXPIRED: def('The signed rendition URL has expired', 403),
  RENDITION_SIGNING_UNCONFIGURED: def('No rendition signing key is configured (IMGPIPE_RENDITION_SIGNING_KEY)', 501),
  RENDITION_PRESET_UNKNOWN: def('A requested rendition preset is not one this deployment configures', 400),

  // Models.
  MODEL_NOT_FOUND: def('A model file is missing from the models directory', 500),
  MODEL_CHECKSUM_MISMATCH: def('A model file does not match its expected SHA-256', 500),
  MODEL_INVALID: def('A model file is not a model of the expected kind', 500),
  MODEL_INFERENCE_FAILED: def('The model failed while running', 500, true),
  MODEL_SET_UNKNOWN: def('The OCR model set named is not one imgpipe knows (ppocr-v4, ppocr-v5)', 400),
  OCR_LANGUAGE_UNSUPPORTED: def(
    'An OCR language is not one imgpipe knows, or the OCR model set named cannot read it (ja needs ppocr-v5)',
    400,
  ),

  // Event encoding (Confluent wire format over the schema registry).
  CODEC_MISSING_MAGIC_BYTE: def('The message does not start with the Confluent magic byte 0', 422),
  CODEC_TRUNCATED: def('The message is shorter than its header or its schema says', 422),
  CODEC_UNKNOWN_SCHEMA: def('The message names a schema id the registry does not know', 422),
  CODEC_INVALID_PAYLOAD: def('The message body does not match its schema', 422),
  CODEC_REGISTRY_UNAVAILABLE: def(
    'The schema registry could not be reached, or did not answer in time (15 s a request by default; a request that times out is made again, three times in all)',
    503,
    true,
  ),
  SCHEMA_INCOMPATIBLE: def('A schema change is not backward compatible with the registered version', 409),
  SCHEMA_INVALID: def('A schema is missing, is not valid Avro, or was rejected by the registry', 422),

  // Pipeline stages.
  STAGE_TIMEOUT: def('The stage did not finish before its deadline', 504),
  STAGE_DEPENDENCY_FAILED: def('A stage this one needs failed', 424),
  STAGE_TRANSIENT: def('A transient failure; the work will be retried', 503, true),
  STAGE_INTERNAL: def('An unexpected error inside a stage', 500),
  STAGE_MODEL_UNKNOWN: def('No worker of the stage has announced the model it runs (start one first)', 409),
  EVENT_TENANT_MISMATCH: def('An event names an image that belongs to another tenant', 409),

  // Services.
  STORAGE_UNAVAILABLE: def('Object storage could not be reached', 503, true),
  STORAGE_OBJECT_NOT_FOUND: def('The referenced object is not in storage', 404),
  DATABASE_UNAVAILABLE: def('PostgreSQL could not be reached', 503, true),
  CACHE_UNAVAILABLE: def('Redis could not be reached', 503, true),
  KAFKA_UNAVAILABLE: def('Kafka could not be reached', 503, true),

  // Configuration and the local stack.
  CONFIG_INVALID: def('The configuration is invalid', 500),
  STACK_SERVICE_FAILED: def('A local stack service failed to start', 500),

  // HTTP API.
  AUTH_MISSING: def('No credentials were given', 401),
  AUTH_INVALID: def('The credentials are invalid or expired', 401),
  AUTH_FORBIDDEN: def('The caller lacks the role this needs', 403),
  AUTH_LOGIN_FAILED: def('The tenant, username or password is wrong (the same answer for each)', 401),
  AUTH_LOGIN_THROTTLED: def('Too many failed sign-ins for this username or client; wait for Retry-After', 429),
  AUTH_REFRESH_INVALID: def('The refresh token is unknown, expired, already used or revoked; sign in again', 401),
  AUTH_CSRF_INVALID: def('A request authenticated by the refresh cookie lacks its X-CSRF-Token header', 403),
  AUTH_SESSIONS_UNCONFIGURED: def('Sign-in needs an HS256 secret to sign access tokens (IMGPIPE_JWT_SECRET)', 501),
  AUTH_PASSWORD_WEAK: def('The password does not meet the password policy', 422),
  AUTH_USERNAME_TAKEN: def('The tenant already has a user with this username', 409),
  AUTH_LAST_ADMIN: def('The change would leave the tenant without an enabled admin', 409),
  REQUEST_INVALID: def('The request does not match the API schema', 400),
  REQUEST_RATE_LIMITED: def('Too many requests', 429),
  RESOURCE_NOT_FOUND: def('No such resource', 404),
  URL_FORBIDDEN: def('The URL points somewhere imgpipe may not fetch', 422),
  URL_FETCH_FAILED: def('The URL could not be fetched', 422),
  URL_HOST_UNAVAILABLE: def("The URL's host failed repeatedly; it is not tried again until Retry-After", 503, true),
  REQUEST_UNSUPPORTED_MEDIA_TYPE: def('The request body has a media type this endpoint does not take', 415),
  REQUEST_TOO_LARGE: def('The request body is larger than this endpoint takes', 413),
  REQUEST_METHOD_NOT_ALLOWED: def('The path exists but does not take this method (see the Allow header)', 405),
  REQUEST_MULTIPART_INVALID: def('The multipart body is malformed: no boundary, truncated, or not well formed', 400),
  REQUEST_EVENT_TOO_LARGE: def("The upload's event would be larger than the Kafka broker accepts", 413),
  MATCH_IMAGES_MISSING: def(
    'A match needs exactly two images: multipart files a and b, or stored image ids a and b',
    400,
  ),
  IMAGE_HASH_UNAVAILABLE: def('The image has no perceptual hash yet: its preprocess stage has not completed', 409),
  IMAGE_FEATURES_UNAVAILABLE: def(
    'The image has no keypoint features: it did not ask for analyses=features, or its features stage has not completed',
    409,
  ),
  IDEMPOTENCY_KEY_REUSED: def('The Idempotency-Key was already used for a different request', 422),
  IDEMPOTENCY_KEY_IN_FLIGHT: def('A request with this Idempotency-Key is still being processed', 409, true),
  UPLOAD_IN_FLIGHT: def('An upload of the same bytes is still being stored; retry shortly', 409, true),
  REDRIVE_IMAGE_PENDING: def('The image is still being processed; redrive it once it has finished', 409, true),
  REDRIVE_NOTHING_FAILED: def('The image has no failed stage to redrive', 409),
  REDRIVE_ORIGINAL_MISSING: def("The image's original is not in storage, so its stages cannot re-run", 409),
  API_INTERNAL: def('An unexpected error in the API', 500),
  WEBHOOK_DELIVERY_FAILED: def('The webhook receiver did not accept the delivery', 502, true),
} as const satisfies Record<string, ErrorDefinition>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CATALOGUE, value);
}

export class ImgpipeError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly httpStatus: number;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    const definition = ERROR_CATALOGUE[code];
    super(message ?? definition.title, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ImgpipeError';
    this.code = code;
    this.retriable = definition.retriable;
    this.httpStatus = definition.httpStatus;
    this.details = options?.details;
  }

  toJSON(): { code: ErrorCode; message: string; retriable: boolean; details?: Record<string, unknown> } {
    return {
      code: this.code,
      message: this.message,
      retriable: this.retriable,
      ...(this.details ? { details: { ...this.details } } : {}),
    };
  }
}

/** Any thrown value as an ImgpipeError; unknown errors become STAGE_INTERNAL, keeping the original as the cause. */
export function toImgpipeError(error: unknown, fallback: ErrorCode = 'STAGE_INTERNAL'): ImgpipeError {
  if (error instanceof ImgpipeError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ImgpipeError(fallback, message, { cause: error });
}
