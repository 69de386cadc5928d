import { ImgpipeError } from '@imgpipe/core';

const UNREACHABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE']);
/** SQLSTATEs after which the same statement can succeed later: lost connection, server shutting down, overload. */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '53400']);
/** Serialization failure and deadlock: PostgreSQL asks the client to run the transaction again. */
const RETRY_SQLSTATES = new Set(['40001', '40P01']);

/**
 * A pg or network error as an ImgpipeError when it is transient (so the caller retries instead of dead-lettering);
 * anything else (a bug, a constraint violation) is returned unchanged.
 */
export function toDatabaseError(error: unknown): unknown {
  if (error instanceof ImgpipeError) return error;
  if (!(error instanceof Error)) return error;
  const code = 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  if (code && RETRY_SQLSTATES.has(code)) {
    return new ImgpipeError('STAGE_TRANSIENT', `PostgreSQL asked to retry: ${error.message}`, { cause: error });
  }
  const unreachable =
    (code !== undefined &&
      (UNREACHABLE_NODE_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08'))) ||
    /Connection terminated|timeout exceeded when trying to connect|connect ECONNREFUSED|is not queryable/i.test(
      error.message,
    ) ||
    (error instanceof AggregateError && error.errors.some((inner) => toDatabaseError(inner) instanceof ImgpipeError));
  if (unreachable) {
    return new ImgpipeError('DATABASE_UNAVAILABLE', `PostgreSQL could not be reached: ${error.message || code}`, {
      cause: error,
    });
  }
  return error;
}

/** Runs a database call, turning transient failures into retriable ImgpipeErrors. */
export async function withDatabaseErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toDatabaseError(error);
  }
}
