/**
 * Errors thrown by @kafkajs/confluent-schema-registry as imgpipe error codes. The library (over mappersmith) reports
 * an HTTP error as an Error with `status`; a connection that never got an answer arrives as status 400 whose message
 * carries the socket error, so that case is recognised by the system error code in the message.
 */
import { ImgpipeError, toImgpipeError } from '@imgpipe/core';

const NETWORK_FAILURE =
  /\b(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE|socket hang up|Timeout)\b/i;

export function fromRegistryLibraryError(error: unknown, action: string, notFound?: () => ImgpipeError): ImgpipeError {
  if (error instanceof ImgpipeError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const status = statusOf(error);
  if (error instanceof Error && error.name === 'ConfluentSchemaRegistryCompatibilityError') {
    return new ImgpipeError(
      'SCHEMA_INCOMPATIBLE',
      `cannot ${action}: the subject's compatibility level is not BACKWARD (${message})`,
      { cause: error },
    );
  }
  if (status === 404 && notFound) return notFound();
  if (status === 409) return new ImgpipeError('SCHEMA_INCOMPATIBLE', `cannot ${action}: ${message}`, { cause: error });
  if (status === 422) return new ImgpipeError('SCHEMA_INVALID', `cannot ${action}: ${message}`, { cause: error });
  const network = NETWORK_FAILURE.exec(message);
  if (network) {
    return new ImgpipeError(
      'CODEC_REGISTRY_UNAVAILABLE',
      `cannot ${action}: the schema registry is unreachable (${network[1]}; is it running? 'imgpipe stack up' starts the local one)`,
      { cause: error },
    );
  }
  if (status !== undefined && (status >= 500 || status === 408 || status === 429)) {
    return new ImgpipeError('CODEC_REGISTRY_UNAVAILABLE', `cannot ${action}: ${message}`, { cause: error });
  }
  if (status !== undefined) {
    return new ImgpipeError('CODEC_REGISTRY_UNAVAILABLE', `cannot ${action}: HTTP ${status}: ${message}`, {
      cause: error,
    });
  }
  return toImgpipeError(error);
}

function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('status' in error)) return undefined;
  const status = Number(error.status);
  return Number.isFinite(status) ? status : undefined;
}
