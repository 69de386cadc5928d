import type { ImageStatus, Rendition, StageError } from '@imgpipe/contracts';
import type { ErrorCode } from '@imgpipe/core';
import { type ColumnType, type Kysely, sql } from 'kysely';
import { withDatabaseErrors } from './database-errors.ts';
import { isImageId } from './image-id.ts';
import { toRendition } from './rows.ts';
import type { Database, RenditionsTable } from './schema.ts';

/** Migration 0009-batches: one POST /v1/batches, and what it asked to be done to every image. */
export interface BatchesTable {
  id: string;
  tenant_id: string;
  /** The rendition presets every image asked for. */
  renditions: ColumnType<string[], string[] | undefined, string[]>;
  /** The ad-hoc recipe applied to every image, canonical; null when none. */
  recipe: string | null;
  created_at: ColumnType<Date, Date | string | undefined, never>;
}

/** The images of a batch, by their position in the request. */
export interface BatchImagesTable {
  batch_id: string;
  position: number;
  image_id: string;
}

export type BatchDatabase = Database & { batches: BatchesTable; batch_images: BatchImagesTable };

export type BatchStatus = 'pending' | 'completed' | 'partial' | 'failed';

export interface BatchImage {
  /** The image's index in the request. */
  position: number;
  imageId: string;
  /** pending until the image's row says otherwise (also while the results service has yet to record it). */
  status: ImageStatus;
  error?: StageError;
  /** Every rendition stored for the image (presets and the ad-hoc recipe), in the order asked; empty until done. */
  renditions: Rendition[];
}

export interface BatchView {
  batchId: string;
  status: BatchStatus;
  renditions: string[];
  recipe?: string;
  createdAt: string;
  counts: { images: number } & Record<ImageStatus, number>;
  images: BatchImage[];
}

/**
 * pending while any image is; completed when every image completed, failed when every one failed; partial for any
 * other finished mix. A batch with no images recorded is pending.
 */
export function batchStatus(statuses: readonly ImageStatus[]): BatchStatus {
  if (statuses.length === 0 || statuses.includes('pending')) return 'pending';
  if (statuses.every((status) => status === 'completed')) return 'completed';
  if (statuses.every((status) => status === 'failed')) return 'failed';
  return 'partial';
}

/**
 * The one writer and reader of the batches tables. A batch is written by the API before its first image is stored
 * (create), its images as they are accepted (addImages); reads join each image's row and renditions, within the
 * tenant: another tenant's batch, or an image row of another tenant, is not seen.
 */
export class BatchRepository {
  readonly #db: Kysely<BatchDatabase>;

  constructor(db: Kysely<Database>) {
    this.#db = db.withTables<{ batches: BatchesTable; batch_images: BatchImagesTable }>();
  }

  async create(batch: { batchId: string; tenantId: string; renditions: string[]; recipe?: string }): Promise<void> {
    await withDatabaseErrors(() =>
      this.#db
        .insertInto('batches')
        .values({
          id: batch.batchId,
          tenant_id: batch.tenantId,
          renditions: batch.renditions,
          recipe: batch.recipe ?? null,
        })
        .execute(),
    );
  }

  /** Removes a batch none of whose images was stored (the request was refused after it was recorded). */
  async remove(tenantId: string, batchId: string): Promise<void> {
    await withDatabaseErrors(() =>
      this.#db.deleteFrom('batches').where('id', '=', batchId).where('tenant_id', '=', tenantId).execute(),
    );
  }

  /** Idempotent: a position already recorded is left as it is. */
  async addImages(batchId: string, images: readonly { position: number; imageId: string }[]): Promise<void> {
    if (images.length === 0) return;
    await withDatabaseErrors(() =>
      this.#db
        .insertInto('batch_images')
        .values(images.map(({ position, imageId }) => ({ batch_id: batchId, position, image_id: imageId })))
        .onConflict((conflict) => conflict.columns(['batch_id', 'position']).doNothing())
        .execute(),
    );
  }

  /** The tenant's batch with each image's status and renditions, in one statement; undefined when it has none. */
  async get(tenantId: string, batchId: string): Promise<BatchView | undefined> {
    if (!isImageId(batchId)) return undefined;
    const id = batchId.toLowerCase();
    return withDatabaseErrors(async () => {
      const batch = await this.#db
        .selectFrom('batches')
        .selectAll()
        .where('id', '=', id)
        .where('tenant_id', '=', tenantId)
        .executeTakeFirst();
      if (!batch) return undefined;
      const rows = await this.#db
        .selectFrom('batch_images as b')
        .leftJoin('images as i', (join) => join.onRef('i.id', '=', 'b.image_id').on('i.tenant_id', '=', tenantId))
        .select([
          'b.position',
          'b.image_id',
          'i.status',
          'i.error_code',
          'i.error_message',
          sql<(Omit<RenditionsTable, 'bytes'> & { bytes: number })[]>`case when i.id is null then '[]'::json else
            coalesce((select json_agg(r order by r.ordinal) from renditions r where r.image_id = i.id), '[]') end`.as(
            'rendition_rows',
          ),
        ])
        .where('b.batch_id', '=', id)
        .orderBy('b.position')
        .execute();
      const images = rows.map((row): BatchImage => {
        const status = row.status ?? 'pending';
        return {
          position: row.position,
          imageId: row.image_id,
          status,
          ...(row.error_code && status !== 'pending'
            ? { error: { code: row.error_code as ErrorCode, message: row.error_message ?? '' } }
            : {}),
          renditions: row.rendition_rows.map(toRendition),
        };
      });
      const counts = { images: images.length, pending: 0, completed: 0, partial: 0, failed: 0 };
      for (const image of images) counts[image.status] += 1;
      return {
        batchId: batch.id,
        status: batchStatus(images.map((image) => image.status)),
        renditions: batch.renditions,
        ...(batch.recipe === null ? {} : { recipe: batch.recipe }),
        createdAt: batch.created_at.toISOString(),
        counts,
        images,
      };
    });
  }
}
