import type { Kysely } from 'kysely';

/**
 * The barcodes and QR codes the OCR stage decoded (RecognizedText.codes: format, text, corners, box), stored as the
 * contract's JSON beside the full text the same TextRecognized event writes. Null for images read before OCR read
 * codes (or with codes off); [] when it looked and found none.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('images').addColumn('text_codes', 'jsonb').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('images').dropColumn('text_codes').execute();
}
