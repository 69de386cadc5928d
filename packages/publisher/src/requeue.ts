import { type EventCodec, type ImageUploaded, TOPICS } from '@imgpipe/contracts';
import { injectTraceContext } from '@imgpipe/telemetry';
import type { Producer } from 'kafkajs';

/** The header a re-queued upload carries: which stage the operator asked to re-run. */
export const REPROCESS_HEADER = 'imgpipe-reprocess';

/**
 * Produces ImageUploaded events again, keyed by image id as the originals were (so each lands on its image's
 * partition, in order after them), page by page; returns how many were queued. For reprocessing: the pipeline's
 * stages and sinks are idempotent, so an image queued twice converges on the same rows.
 */
export async function requeueUploads(options: {
  producer: Producer;
  codec: EventCodec;
  pages: AsyncIterable<readonly { event: ImageUploaded }[]>;
  stage: string;
}): Promise<number> {
  let queued = 0;
  for await (const page of options.pages) {
    if (page.length === 0) continue;
    const messages = await Promise.all(
      page.map(async ({ event }) => {
        const headers: Record<string, string> = { [REPROCESS_HEADER]: options.stage };
        injectTraceContext(headers);
        return { key: event.imageId, value: await options.codec.encode('ImageUploaded', event), headers };
      }),
    );
    await options.producer.send({ topic: TOPICS.uploaded, acks: -1, messages });
    queued += messages.length;
  }
  return queued;
}
