import { createHash } from 'node:crypto';

/**
 * The digest of what decides a rendition's bytes: the normalised recipe, the format `format:auto` chose from the
 * request's Accept header (empty when the recipe names its format), and the detections a faces/objects crop used.
 * With the original's SHA-256 it makes the rendition's S3 key (@imgpipe/storage renditionKey), so the renditions
 * route and the pipeline's transform stage store the same rendition under the same key.
 */
export function renditionVariant(canonical: string, negotiatedFormat = '', detections?: unknown): string {
  return createHash('sha256')
    .update(canonical)
    .update('\n')
    .update(negotiatedFormat)
    .update('\n')
    .update(detections ? JSON.stringify(detections) : '')
    .digest('hex');
}
