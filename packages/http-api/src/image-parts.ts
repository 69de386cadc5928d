/**
 * The multipart body of a route that takes images (POST /v1/transform, /v1/features/detect, /v1/match): its file
 * parts by name, one each, and its text fields; any other part is REQUEST_INVALID, a malformed body
 * REQUEST_MULTIPART_INVALID.
 */
import { ImgpipeError } from '@imgpipe/core';
import type { FastifyRequest } from 'fastify';

/**
 * Errors of the multipart parser (busboy: no boundary, a body that ends early, a malformed part header) as
 * REQUEST_MULTIPART_INVALID; fastify's own coded errors (size and count limits) and ours pass through.
 */
export function multipartError(error: unknown): unknown {
  if (error instanceof ImgpipeError) return error;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('FST_')) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ImgpipeError('REQUEST_MULTIPART_INVALID', `the multipart body is malformed: ${message}`, {
    cause: error,
  });
}

export interface ImagePartsSpec {
  /** The file parts' names; each may come once. */
  files: readonly string[];
  /** The text fields' names; each may come once. */
  fields: ReadonlySet<string>;
  /** The refusal of a second file part of the same name. */
  twice(name: string): string;
  /** Where the parts go, said when a part is none of them. */
  hint: string;
  /** A field's value as the route takes it; by default as sent. */
  value?(sent: unknown): unknown;
}

export interface ImageParts {
  files: Map<string, Buffer>;
  fields: Record<string, unknown>;
}

export async function readImageParts(request: FastifyRequest, spec: ImagePartsSpec): Promise<ImageParts> {
  const files = new Map<string, Buffer>();
  const fields: Record<string, unknown> = {};
  try {
    for await (const part of request.parts()) {
      if (spec.files.includes(part.fieldname) && part.type === 'file') {
        if (files.has(part.fieldname)) throw new ImgpipeError('REQUEST_INVALID', spec.twice(part.fieldname));
        files.set(part.fieldname, await part.toBuffer());
      } else if (spec.fields.has(part.fieldname) && part.type === 'field') {
        if (part.fieldname in fields) throw new ImgpipeError('REQUEST_INVALID', `${part.fieldname} given twice`);
        fields[part.fieldname] = spec.value ? spec.value(part.value) : part.value;
      } else {
        throw new ImgpipeError(
          'REQUEST_INVALID',
          `unexpected multipart part ${JSON.stringify(part.fieldname)}: ${spec.hint}`,
        );
      }
    }
  } catch (error) {
    throw multipartError(error);
  }
  return { files, fields };
}
