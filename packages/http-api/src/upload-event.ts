import { type EventSchemas, type ImageUploaded, loadEventSchemas, type UploadAnalysisName } from '@imgpipe/contracts';

/** The Confluent wire format's header before the Avro body: magic byte and a 4-byte schema id. */
const WIRE_HEADER_BYTES = 5;

let schemas: EventSchemas | undefined;

export interface UploadEventFields {
  tenantId: string;
  sha256: string;
  size: number;
  contentType: string;
  bucket: string;
  key: string;
  analyses: UploadAnalysisName[];
  renditions?: string[];
  sourceName?: string;
  callbackUrl?: string;
  attributes?: Record<string, string>;
  ocrModel?: string;
  ocrLanguages?: string[];
}

/**
 * The size of the ImageUploaded message value an upload will produce: the event the ImagePublisher builds (a blob
 * reference, never inline bytes), encoded with the committed Avro schema, plus the wire header. Exact, not a bound:
 * every field that varies in length is the upload's own; the id and times are fixed-width.
 */
export function uploadEventBytes(fields: UploadEventFields): number {
  schemas ??= loadEventSchemas();
  const event: ImageUploaded = {
    imageId: '00000000-0000-4000-8000-000000000000',
    tenantId: fields.tenantId,
    occurredAt: Date.now(),
    sha256: fields.sha256,
    size: fields.size,
    contentType: fields.contentType,
    analyses: fields.analyses,
    attributes: fields.attributes ?? {},
    renditions: fields.renditions ?? [],
    ...(fields.sourceName ? { source: fields.sourceName } : {}),
    ...(fields.callbackUrl ? { callbackUrl: fields.callbackUrl } : {}),
    ...(fields.ocrModel ? { ocrModel: fields.ocrModel } : {}),
    ...(fields.ocrLanguages?.length ? { ocrLanguages: fields.ocrLanguages } : {}),
    blob: {
      bucket: fields.bucket,
      key: fields.key,
      sha256: fields.sha256,
      size: fields.size,
      contentType: fields.contentType,
    },
  };
  return WIRE_HEADER_BYTES + schemas.ImageUploaded.type.toBuffer(event).byteLength;
}
