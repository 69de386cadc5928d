import type { AnalysisName } from '@imgpipe/contracts';
import { ImgpipeError } from '@imgpipe/core';
import type { FastifyRequest } from 'fastify';
import { parseAnalyses, parseAttributes } from './image-intake.ts';

export interface UploadOptions {
  analyses: AnalysisName[];
  sourceName?: string;
  callbackUrl?: string;
  attributes?: Record<string, string>;
}

export type UploadItem =
  | { kind: 'bytes'; bytes: Buffer; sourceName?: string }
  | { kind: 'url'; url: string; sourceName?: string };

export interface UploadInput {
  items: UploadItem[];
  options: UploadOptions;
}

interface UploadQuery {
  analyses?: string;
  sourceName?: string;
  callbackUrl?: string;
}

interface JsonUpload {
  url?: string;
  images?: { url: string; sourceName?: string }[];
  analyses?: string[];
  sourceName?: string;
  callbackUrl?: string;
  attributes?: Record<string, string>;
}

function options(fields: {
  analyses?: unknown;
  sourceName?: unknown;
  callbackUrl?: unknown;
  attributes?: unknown;
}): UploadOptions {
  const text = (value: unknown, name: string) => {
    if (value === undefined || value === '') return undefined;
    if (typeof value !== 'string' || value.length > 2048) {
      throw new ImgpipeError('REQUEST_INVALID', `${name} must be a string of at most 2048 characters`);
    }
    return value;
  };
  const sourceName = text(fields.sourceName, 'sourceName');
  const callbackUrl = text(fields.callbackUrl, 'callbackUrl');
  const attributes = parseAttributes(fields.attributes);
  return {
    analyses: parseAnalyses(fields.analyses),
    ...(sourceName ? { sourceName } : {}),
    ...(callbackUrl ? { callbackUrl } : {}),
    ...(Object.keys(attributes).length > 0 ? { attributes } : {}),
  };
}

/** A file name from Content-Disposition, if the client sent one with a raw body. */
function dispositionName(request: FastifyRequest): string | undefined {
  const header = request.headers['content-disposition'];
  const match = typeof header === 'string' ? /filename="?([^";]+)"?/i.exec(header) : null;
  return match?.[1];
}

/**
 * What an upload request carries, whichever of the three forms it takes: multipart (files plus fields), a raw image
 * body (options in the query string), or JSON with `url` (or `images: [{url}]` for a batch).
 */
export async function readUpload(request: FastifyRequest, limits: { maxItems: number }): Promise<UploadInput> {
  const query = request.query as UploadQuery;
  if (request.isMultipart()) {
    const items: UploadItem[] = [];
    const fields: Record<string, unknown> = { ...query };
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        const bytes = await part.toBuffer();
        items.push({ kind: 'bytes', bytes, ...(part.filename ? { sourceName: part.filename } : {}) });
      } else {
        fields[part.fieldname] = part.value;
      }
    }
    return { items: checkCount(items, limits.maxItems), options: options(fields) };
  }
  const body = request.body;
  if (Buffer.isBuffer(body)) {
    const sourceName = dispositionName(request);
    return {
      items: [{ kind: 'bytes', bytes: body, ...(sourceName ? { sourceName } : {}) }],
      options: options(query),
    };
  }
  if (body && typeof body === 'object') {
    const json = body as JsonUpload;
    const urls = json.images ?? (json.url ? [{ url: json.url }] : []);
    const items = urls.map(
      (entry): UploadItem => ({
        kind: 'url',
        url: entry.url,
        ...(entry.sourceName ? { sourceName: entry.sourceName } : {}),
      }),
    );
    return { items: checkCount(items, limits.maxItems), options: options({ ...query, ...json }) };
  }
  throw new ImgpipeError('IMAGE_EMPTY', 'the request carries no image');
}

function checkCount(items: UploadItem[], max: number): UploadItem[] {
  if (items.length === 0) throw new ImgpipeError('IMAGE_EMPTY', 'the request carries no image');
  if (items.length > max) {
    throw new ImgpipeError('REQUEST_INVALID', `at most ${max} image${max === 1 ? '' : 's'} per request`);
  }
  return items;
}
