export { type BlobWriter, ImagePublisher, type PublishRequest } from './image-publisher.ts';
export { ProduceBatcher } from './produce-batcher.ts';
export { REPROCESS_HEADER, requeueUploads } from './requeue.ts';
