import type { OutputEvent } from '@imgpipe/contracts';

/** The fields every stage's output event starts with; the rest are the stage's own. */
export interface ImageEventHead {
  imageId: string;
  tenantId: string;
  occurredAt: number;
}

/**
 * A stage's output event about the image its input names: the image's id and tenant, the time now, keyed by the
 * image (so every event of one image lands on one partition), and the stage's own fields.
 */
export function imageEvent<T extends ImageEventHead>(
  input: { imageId: string; tenantId: string },
  topic: string,
  eventType: string,
  fields: Omit<T, keyof ImageEventHead>,
): OutputEvent {
  const value = { imageId: input.imageId, tenantId: input.tenantId, occurredAt: Date.now(), ...fields } as T;
  return { topic, eventType, key: input.imageId, value };
}
