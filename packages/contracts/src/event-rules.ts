/**
 * Rules of the contract that an Avro schema cannot state. Checked when imgpipe encodes, so its own producers never
 * publish an event that a consumer would reject; other systems' events are checked by the stage that reads them.
 */
import { ImgpipeError } from '@imgpipe/core';
import { type ImageUploaded, INLINE_IMAGE_MAX_BYTES } from './events.ts';
import { ANALYSES, type AnalysisName, type EventType, type UploadAnalysisName } from './topics.ts';

/**
 * The model analyses an image waits for: those it asked for, or all when it asked for none. An upload that asked for
 * opt-in analyses alone (`analyses=features`) asked for none of the model analyses.
 */
export function requestedAnalyses(event: { readonly analyses: readonly string[] }): AnalysisName[] {
  const asked = event.analyses.filter((name): name is AnalysisName => (ANALYSES as readonly string[]).includes(name));
  if (asked.length > 0) return asked;
  return requestsFeatures(event) ? [] : [...ANALYSES];
}

/**
 * Everything an image asked for, as its record and every view of it report (`requestedAnalyses`): the model analyses
 * it waits for (requestedAnalyses) followed by `features` when it asked for them. `analyses=features` alone is
 * `['features']`; an empty list is the three model analyses.
 */
export function askedAnalyses(event: { readonly analyses: readonly string[] }): UploadAnalysisName[] {
  return requestsFeatures(event) ? [...requestedAnalyses(event), 'features'] : requestedAnalyses(event);
}

/** Whether an image asked for keypoint features (`features` in its analyses; never implied by an empty list). */
export function requestsFeatures(event: { readonly analyses?: readonly string[] }): boolean {
  return (event.analyses ?? []).includes('features');
}

export function checkEventRules(eventType: EventType, value: unknown): void {
  if (eventType === 'ImageUploaded') checkImageUploaded(value as ImageUploaded);
}

function checkImageUploaded(event: ImageUploaded): void {
  const hasBlob = event.blob !== undefined && event.blob !== null;
  const hasInline = event.inline !== undefined && event.inline !== null;
  if (hasBlob === hasInline) {
    throw new ImgpipeError(
      'CODEC_INVALID_PAYLOAD',
      `ImageUploaded ${event.imageId} must carry exactly one of blob and inline (it has ${hasBlob ? 'both' : 'neither'})`,
    );
  }
  if (hasInline && event.inline!.length > INLINE_IMAGE_MAX_BYTES) {
    throw new ImgpipeError(
      'IMAGE_TOO_LARGE',
      `ImageUploaded ${event.imageId} inlines ${event.inline!.length} bytes; at most ${INLINE_IMAGE_MAX_BYTES} may be inlined, store bigger images in object storage and send a blob reference`,
    );
  }
}
