import type { ImageUploaded } from '@imgpipe/contracts';
import type { Kysely } from 'kysely';
import { withDatabaseErrors } from './database-errors.ts';
import { canonicalImageId, isImageId } from './image-id.ts';
import type { ImageState, UploadRecord } from './image-state.ts';
import type { ResultsRepository, ResultsWrite, WriteResult } from './results-repository.ts';
import { uploadWrite } from './results-stage.ts';
import type { Database } from './schema.ts';
import { firstUploadState, insertFirstUploads } from './upload-insert.ts';

/** Uploads per transaction at most; more wait for the next one. */
const MAX_BATCH = 128;

interface Waiting {
  write: ResultsWrite;
  resolve: (result: WriteResult) => void;
  reject: (error: unknown) => void;
}

/**
 * The ingest API's pending rows, written by group commit: an upload that arrives while a transaction is in flight
 * waits for it and goes into the next one with every other upload that arrived meanwhile. One upload alone is
 * written at once (no timer: a quiet API adds no latency); under load, N concurrent uploads cost one transaction.
 *
 * The commit does not wait for the WAL flush (`durable: false`): the row is derived from ImageUploaded, which the
 * results service records too, so a database crash can lose only rows that will be written again.
 *
 * A transaction is ONE statement when every upload in it is its image's first news, as the API's are (the image id
 * is new): upload-insert.ts writes the rows the repository's fold would. The others (the results service, or a
 * stage event, wrote the image first; a malformed id; the same image twice) go through `ResultsRepository.apply`
 * afterwards, in their order, so what is stored and what each upload is answered are the fold's in every case.
 */
export class UploadRecorder {
  readonly #repository: ResultsRepository;
  readonly #db: Kysely<Database>;
  #queue: Waiting[] = [];
  #flushing = false;

  constructor(repository: ResultsRepository, db: Kysely<Database>) {
    this.#repository = repository;
    this.#db = db;
  }

  /** Records the upload's image as pending (idempotent, either order with the results service). */
  record(event: ImageUploaded): Promise<WriteResult> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ write: uploadWrite(event), resolve, reject });
      if (!this.#flushing) void this.#drain();
    });
  }

  /**
   * Removes the pending row of an upload whose event could not be produced, so no image exists that its client was
   * not told about. Only a row nothing else has touched yet is removed.
   */
  async discard(tenantId: string, imageId: string): Promise<void> {
    await withDatabaseErrors(() =>
      this.#db
        .deleteFrom('images')
        .where('id', '=', imageId)
        .where('tenant_id', '=', tenantId)
        .where('status', '=', 'pending')
        .execute(),
    );
  }

  async #drain(): Promise<void> {
    this.#flushing = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, MAX_BATCH);
        await this.#apply(batch);
      }
    } finally {
      this.#flushing = false;
    }
  }

  async #apply(batch: Waiting[]): Promise<void> {
    const now = this.#repository.now();
    const fresh: { waiting: Waiting; state: ImageState }[] = [];
    const seen = new Set<string>();
    for (const waiting of batch) {
      const { upload } = waiting.write as UploadWrite;
      if (!isImageId(upload.imageId)) continue;
      const imageId = canonicalImageId(upload.imageId);
      if (seen.has(imageId)) continue;
      seen.add(imageId);
      fresh.push({ waiting, state: firstUploadState(imageId, upload, this.#repository.uploadDeadline(upload), now) });
    }
    let inserted: Set<string>;
    try {
      inserted = await withDatabaseErrors(() =>
        insertFirstUploads(
          this.#db,
          fresh.map(({ state }) => state),
          { durable: false },
        ),
      );
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
      return;
    }
    const done = new Set<Waiting>();
    for (const { waiting, state } of fresh) {
      if (!inserted.has(state.image.id)) continue;
      done.add(waiting);
      waiting.resolve({ imageId: state.image.id, tenantId: state.image.tenant_id, changed: true, status: 'pending' });
    }
    const rest = batch.filter((waiting) => !done.has(waiting));
    if (rest.length > 0) await this.#fold(rest);
  }

  /** The general path: the repository's fold, one transaction for the writes the single statement did not take. */
  async #fold(batch: Waiting[]): Promise<void> {
    try {
      const result = await this.#repository.apply(
        batch.map((waiting) => waiting.write),
        { durable: false },
      );
      const refused = new Map(result.rejected.map(({ index, error }) => [index, error]));
      const byImage = new Map(result.images.map((image) => [image.imageId, image]));
      for (const [index, waiting] of batch.entries()) {
        const error = refused.get(index);
        const image = error ? undefined : byImage.get(imageIdOf(waiting.write));
        if (image) waiting.resolve({ ...image, changed: result.changed[index]! });
        else waiting.reject(error ?? new Error('upload write not applied'));
      }
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
    }
  }
}

type UploadWrite = { kind: 'upload'; upload: UploadRecord };

function imageIdOf(write: ResultsWrite): string {
  return write.kind === 'upload' ? canonicalImageId(write.upload.imageId) : '';
}
