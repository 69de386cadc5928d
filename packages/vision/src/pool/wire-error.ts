import { ImgpipeError, isErrorCode } from '@imgpipe/core';

/** An error as it crosses a thread boundary: ImgpipeErrors keep their code and details, others their message. */
export interface WireError {
  code?: string;
  message: string;
  name?: string;
  stack?: string;
  details?: Record<string, unknown>;
}

export function toWireError(error: unknown): WireError {
  if (error instanceof ImgpipeError) {
    return { code: error.code, message: error.message, ...(error.details ? { details: { ...error.details } } : {}) };
  }
  if (error instanceof Error)
    return { name: error.name, message: error.message, ...(error.stack ? { stack: error.stack } : {}) };
  return { message: String(error) };
}

export function fromWireError(wire: WireError): Error {
  if (wire.code && isErrorCode(wire.code)) {
    return new ImgpipeError(wire.code, wire.message, wire.details ? { details: wire.details } : undefined);
  }
  const error = new Error(wire.message);
  if (wire.name) error.name = wire.name;
  if (wire.stack) error.stack = wire.stack;
  return error;
}
