export {
  type BatchImage,
  BatchRepository,
  type BatchStatus,
  type BatchView,
  batchStatus,
} from './batch-repository.ts';
export { createDatabase, DEFAULT_POOL_SIZE, type DatabaseOptions } from './database.ts';
export { toDatabaseError, withDatabaseErrors } from './database-errors.ts';
export { type DatabaseUrls, migrateDirect, migrationUrl, readDatabase } from './database-urls.ts';
export { type SweepOptions, type SweptImage, sweepExpired } from './deadline-sweep.ts';
export { isImageId } from './image-id.ts';
export { type RedriveSubject, redriveStages, redriveSubject } from './image-redrive.ts';
export { type MigrateOptions, type MigrationOutcome, migrate, migrationStatus } from './migrate.ts';
export {
  countRows,
  DEFAULT_PAGE_SIZE,
  findRecentBySha,
  getImage,
  getImages,
  type ImageSummary,
  type ImageView,
  MAX_PAGE_SIZE,
  type RecentUpload,
  type RowCounts,
  type SearchImagesQuery,
  type SearchPage,
  searchImages,
} from './queries.ts';
export {
  isReprocessStage,
  REPROCESSABLE_STAGES,
  type ReprocessCandidate,
  type ReprocessQuery,
  type ReprocessStage,
  reprocessCandidates,
} from './reprocess.ts';
export {
  createRedis,
  DEFAULT_CACHE_TTL_SECONDS,
  imageKey,
  type ProgressEvent,
  progressChannel,
  ResultsCache,
  type ResultsCacheOptions,
  tenantProgressPattern,
  type ViewUpdate,
} from './results-cache.ts';
export {
  type BatchWriteResult,
  type BlobReference,
  DEFAULT_DEADLINE_MS,
  ResultsRepository,
  type ResultsWrite,
  type ResultsRepositoryOptions,
  type StageRecord,
  type UploadRecord,
  type WriteResult,
} from './results-repository.ts';
export type { Database } from './schema.ts';
export {
  findSimilarImages,
  HASH_SEGMENTS,
  MAX_SIMILAR_DISTANCE,
  perceptualHashSegments,
  type SimilarImage,
  type SimilarImagesQuery,
  tenantHashes,
} from './similar-images.ts';
export { UploadRecorder } from './upload-recorder.ts';
export {
  type ImageTouched,
  recordImageUploaded,
  type ResultsListener,
  resultsStage,
  toResultsWrite,
} from './results-stage.ts';
export {
  type ResultsChange,
  type ResultsChangeListener,
  ResultsService,
  type ResultsServiceConfig,
  resultsServiceSettings,
} from './results-service.ts';
