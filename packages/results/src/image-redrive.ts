import { ANALYSES, type ImageStatus, type StageName } from '@imgpipe/contracts';
import type { Kysely } from 'kysely';
import { withDatabaseErrors } from './database-errors.ts';
import type { ReprocessStage } from './reprocess.ts';
import type { Database } from './schema.ts';

/** What a per-image redrive needs to know of one image: its status, its failed stages, whether its original is stored. */
export interface RedriveSubject {
  status: ImageStatus;
  failed: StageName[];
  /** The original is in storage (an inline image whose preprocess failed never was): without it nothing can re-run. */
  stored: boolean;
}

/** The image of this tenant, or undefined (another tenant's image is as unknown as a missing one). */
export async function redriveSubject(
  db: Kysely<Database>,
  tenantId: string,
  imageId: string,
): Promise<RedriveSubject | undefined> {
  return withDatabaseErrors(async () => {
    const image = await db
      .selectFrom('images')
      .select(['status', 'blob_key', 'sha256', 'byte_size'])
      .where('id', '=', imageId)
      .where('tenant_id', '=', tenantId)
      .executeTakeFirst();
    if (!image) return undefined;
    const failed = await db
      .selectFrom('image_stages')
      .select('stage')
      .where('image_id', '=', imageId)
      .where('status', '=', 'failed')
      .execute();
    return {
      status: image.status,
      failed: failed.map((row) => row.stage),
      stored: image.blob_key !== null && image.sha256 !== null && image.byte_size !== null,
    };
  });
}

/**
 * The stages to re-run for an image's failed ones: preprocess when it failed (it re-runs every analysis the image
 * asked for; the others failed only because it did) or when aggregate failed (the join needs every part again);
 * else each failed analysis on its own, as a stage reprocess re-runs it.
 */
export function redriveStages(failed: readonly StageName[]): ReprocessStage[] {
  if (failed.includes('preprocess') || failed.includes('aggregate')) return ['preprocess'];
  return ANALYSES.filter((analysis) => failed.includes(analysis));
}
