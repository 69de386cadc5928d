import type { Kysely } from 'kysely';

/**
 * The OCR model set an upload named (issue 13; ImageUploaded.ocrModel): images.requested_ocr_model, null for an
 * upload that named none (the deployment's set reads it) and for every image before. Deduplication compares it
 * (the same bytes asking for another set are another image) and a reprocess re-runs the image with it. A nullable
 * column without a default: adding it rewrites no rows.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('images').addColumn('requested_ocr_model', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('images').dropColumn('requested_ocr_model').execute();
}
