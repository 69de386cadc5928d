import { type Kysely, sql } from 'kysely';

/**
 * The languages an upload restricted OCR to (issue 13; ImageUploaded.ocrLanguages): images.requested_ocr_languages,
 * in one spelling (contracts' canonicalOcrLanguages: {en,de}), null for an upload that named none and for every
 * image before.
 * Deduplication compares it as it does requested_ocr_model, and a reprocess re-runs the image with the languages.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('images').addColumn('requested_ocr_languages', sql`text[]`).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('images').dropColumn('requested_ocr_languages').execute();
}
