export { type BlobWriter, ImagePublisher, type PublishRequest } from './image-publisher.ts';
