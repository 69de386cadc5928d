import { type ErrorCode, ImgpipeError, toImgpipeError } from '@imgpipe/core';

export interface RetryPolicy {
  /** Total deliveries to the handler before a transient failure is dead-lettered. */
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /**
   * How long after a message was produced (its Kafka timestamp) a failure because a dependency is unavailable is
   * still retried, past maxAttempts: the image's deadline (IMGPIPE_IMAGE_DEADLINE_MS). 0 treats such failures like
   * any other transient one.
   */
  unavailableRetryMs?: number;
  /** The longest wait between retries while a dependency is unavailable, so work resumes soon after it is back. */
  unavailableMaxDelayMs?: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  unavailableRetryMs: 15 * 60_000,
  unavailableMaxDelayMs: 5_000,
};

/** Exponential backoff with full jitter (AWS architecture blog): spreads retries of many workers apart. */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** The wait before retry `attempt`: shorter while a dependency is unavailable (it is probed, not the input). */
export function retryDelay(
  policy: RetryPolicy,
  attempt: number,
  error: ImgpipeError,
  random: () => number = Math.random,
): number {
  const delay = backoffDelay(policy, Math.min(attempt, 30), random);
  return isDependencyUnavailable(error)
    ? Math.min(delay, policy.unavailableMaxDelayMs ?? DEFAULT_RETRY_POLICY.unavailableMaxDelayMs!)
    : delay;
}

/**
 * Whether a failure is retried once more: a transient failure within maxAttempts, and a dependency that is
 * unavailable also past them, until `unavailableRetryMs` after the newest of the messages was produced (the
 * image's deadline: the deadline sweep fails the image then anyway). Deterministic failures never are.
 */
export function shouldRetry(
  policy: RetryPolicy,
  error: ImgpipeError,
  attempt: number,
  producedAt: readonly (string | number | undefined)[],
  now: number = Date.now(),
): boolean {
  if (!error.retriable) return false;
  if (attempt < policy.maxAttempts) return true;
  if (!isDependencyUnavailable(error)) return false;
  const window = policy.unavailableRetryMs ?? DEFAULT_RETRY_POLICY.unavailableRetryMs!;
  const newest = Math.max(...producedAt.map((at) => producedTime(at, now)));
  return now < newest + window;
}

/** A Kafka timestamp (ms as a string) as a time; missing, malformed or in the future counts as now. */
function producedTime(at: string | number | undefined, now: number): number {
  const time = Number(at);
  return Number.isFinite(time) && time > 0 && time <= now ? time : now;
}

/** Codes that mean a dependency could not be reached: the input is fine, the same work succeeds once it is back. */
const UNAVAILABLE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'STORAGE_UNAVAILABLE',
  'DATABASE_UNAVAILABLE',
  'CACHE_UNAVAILABLE',
  'KAFKA_UNAVAILABLE',
  'CODEC_REGISTRY_UNAVAILABLE',
]);

/** True for the *_UNAVAILABLE codes, and for a socket failure whose dependency has no code of its own. */
export function isDependencyUnavailable(error: ImgpipeError): boolean {
  return UNAVAILABLE_CODES.has(error.code) || (error.retriable && error.details?.['unavailable'] === true);
}

/** Socket-level failures: the peer is not there (yet), or went away mid-request. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** kafkajs protocol errors that depend on the record, not on the broker being there: retrying cannot help. */
const KAFKA_DETERMINISTIC_TYPES = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'INVALID_TOPIC_EXCEPTION',
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'UNSUPPORTED_VERSION',
  'INVALID_REQUIRED_ACKS',
]);

type ErrorLike = Error & {
  code?: unknown;
  type?: unknown;
  cause?: unknown;
  originalError?: unknown;
  $metadata?: { httpStatusCode?: number };
};

/** The error and every error it wraps (cause, kafkajs' originalError, AggregateError's errors), outermost first. */
function chain(error: unknown): ErrorLike[] {
  const seen: ErrorLike[] = [];
  const queue: unknown[] = [error];
  while (queue.length > 0 && seen.length < 20) {
    const next = queue.shift();
    if (!(next instanceof Error) || seen.includes(next as ErrorLike)) continue;
    const item = next as ErrorLike;
    seen.push(item);
    queue.push(item.cause, item.originalError);
    if (next instanceof AggregateError) queue.push(...next.errors);
  }
  return seen;
}

/** What dependency an error (one link of a chain) says is unavailable, if any. */
function unavailableCodeOf(error: ErrorLike): ErrorCode | undefined {
  const name = error.name ?? '';
  const code = typeof error.code === 'string' ? error.code : undefined;
  if (name.startsWith('KafkaJS')) {
    if (typeof error.type === 'string' && KAFKA_DETERMINISTIC_TYPES.has(error.type)) return undefined;
    if (name === 'KafkaJSNonRetriableError' || name === 'KafkaJSNumberOfRetriesExceeded') return undefined; // look inside
    return 'KAFKA_UNAVAILABLE';
  }
  // ioredis: a command out of reconnection attempts, or sent on a connection that closed.
  if (name === 'MaxRetriesPerRequestError' || /^Connection is closed|Stream isn't writeable/.test(error.message)) {
    return 'CACHE_UNAVAILABLE';
  }
  // PostgreSQL: connection exceptions (08xxx), server shutting down or starting (57P0x), too many connections.
  if (code && (/^08...$/.test(code) || /^57P0[123]$/.test(code) || code === '53300')) return 'DATABASE_UNAVAILABLE';
  // node-postgres: a connection lost mid-query, a client broken by an earlier connection error, a pool that could
  // not connect in time.
  if (/Connection terminated|is not queryable|timeout exceeded when trying to connect/.test(error.message)) {
    return 'DATABASE_UNAVAILABLE';
  }
  // AWS SDK (S3): a 5xx or throttling answer, or a request that timed out.
  const status = error.$metadata?.httpStatusCode;
  if (status !== undefined && (status >= 500 || status === 429 || status === 408)) return 'STORAGE_UNAVAILABLE';
  if (name === 'TimeoutError' || name === 'RequestTimeout') return 'STAGE_TRANSIENT';
  if (code && NETWORK_CODES.has(code)) return 'STAGE_TRANSIENT';
  return undefined;
}

/**
 * A thrown value as the ImgpipeError that decides retry or dead letter. Errors of the catalogue keep their code,
 * except STAGE_INTERNAL wrapping a dependency failure; a raw error from a client library (kafkajs, ioredis, pg, the
 * AWS SDK, a socket) that says its dependency is unavailable becomes that dependency's retriable code; anything
 * else is STAGE_INTERNAL, deterministic.
 */
export function classifyFailure(thrown: unknown): ImgpipeError {
  if (thrown instanceof ImgpipeError && thrown.code !== 'STAGE_INTERNAL') return thrown;
  const links = chain(thrown);
  const codes = links.map(unavailableCodeOf).filter((code): code is ErrorCode => code !== undefined);
  // The most specific: a named dependency over a bare socket failure (STAGE_TRANSIENT, marked unavailable).
  const code = codes.find((candidate) => candidate !== 'STAGE_TRANSIENT') ?? codes[0];
  if (code === undefined) return toImgpipeError(thrown);
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  return new ImgpipeError(code, message, { cause: thrown, details: { unavailable: true } });
}
