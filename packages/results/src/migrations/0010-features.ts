import type { Kysely } from 'kysely';

/**
 * Keypoint features (issue 15): the features stage's summary (images.features: detector, canonical parameters,
 * count, the strongest keypoints and the key of the stored record in S3, as the contract's FeatureSummary) and its
 * report (images.features_stage), both from ImageAnalyzed; null for images that did not ask for features, so no row
 * is rewritten.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('images').addColumn('features', 'jsonb').addColumn('features_stage', 'jsonb').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('images').dropColumn('features_stage').dropColumn('features').execute();
}
