import type { Kysely } from 'kysely';

/**
 * The page orientation OCR found (0, 90, 180 or 270 degrees clockwise), stored beside the full text that the same
 * TextRecognized event writes. Null for images read before OCR reported it, or with no text.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('images').addColumn('text_orientation', 'integer').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('images').dropColumn('text_orientation').execute();
}
