import { ANALYSES, type ImageUploaded, type ModelIdentity, type UploadAnalysisName } from '@imgpipe/contracts';
import { ImgpipeError } from '@imgpipe/core';
import { type Kysely, sql } from 'kysely';
import { withDatabaseErrors } from './database-errors.ts';
import type { Database } from './schema.ts';

/**
 * The stages a reprocess can re-run: preprocess (and everything after it), one analysis, or the opt-in features stage
 * (for images that asked for features).
 */
export const REPROCESSABLE_STAGES = ['preprocess', ...ANALYSES, 'features'] as const;
export type ReprocessStage = (typeof REPROCESSABLE_STAGES)[number];

export function isReprocessStage(value: unknown): value is ReprocessStage {
  return typeof value === 'string' && (REPROCESSABLE_STAGES as readonly string[]).includes(value);
}

export interface ReprocessQuery {
  stage: ReprocessStage;
  /** all: every image that asked for the stage; missing: those without a completed result from `model`. */
  mode: 'all' | 'missing';
  /**
   * For `missing` on an analysis or features: the model its workers run now (for features, the detector and its
   * options: featuresModel); a result from any other model is missing.
   */
  model?: ModelIdentity;
  tenantId?: string;
  /** This one image only (a per-image redrive). */
  imageId?: string;
  /** Only images uploaded at or after this time. */
  since?: Date;
}

export interface ReprocessCandidate {
  imageId: string;
  tenantId: string;
  event: ImageUploaded;
}

const PAGE = 500;

/**
 * The images a reprocess re-queues, page by page in upload order, each as the ImageUploaded that re-runs the stage
 * (photo libraries' "All" and "Missing" jobs). An analysis is re-run by re-publishing the image's upload with that
 * analysis alone, so preprocess prepares it again (the same derivatives, at the same keys), the other analyses skip
 * it and the results sink replaces that stage's row and output rows (upserts keyed by image and ordinal: no
 * duplicates). Images still pending (in flight) are left to finish, images that did not ask for the stage are not
 * given it, and images whose original is not in storage (an inline image preprocess never stored) cannot be re-run.
 */
export async function* reprocessCandidates(
  db: Kysely<Database>,
  query: ReprocessQuery,
): AsyncGenerator<ReprocessCandidate[]> {
  if (query.mode === 'missing' && query.stage !== 'preprocess' && !query.model) {
    throw new ImgpipeError('CONFIG_INVALID', `reprocess --missing for ${query.stage} needs the model it runs now`);
  }
  let after: { createdAt: Date; id: string } | undefined;
  for (;;) {
    const rows = await withDatabaseErrors(() => {
      let select = db
        .selectFrom('images as i')
        .select([
          'i.id',
          'i.tenant_id',
          'i.source_name',
          'i.content_type',
          'i.byte_size',
          'i.sha256',
          'i.blob_bucket',
          'i.blob_key',
          'i.requested_analyses',
          'i.attributes',
          'i.requested_ocr_model',
          'i.requested_ocr_languages',
          'i.created_at',
        ])
        .where('i.status', '<>', 'pending')
        .where('i.blob_key', 'is not', null)
        .where('i.sha256', 'is not', null)
        .where('i.byte_size', 'is not', null);
      if (query.tenantId !== undefined) select = select.where('i.tenant_id', '=', query.tenantId);
      if (query.imageId !== undefined) select = select.where('i.id', '=', query.imageId);
      if (query.since) select = select.where('i.created_at', '>=', query.since);
      const model = query.mode === 'missing' ? query.model : undefined;
      if (query.stage === 'features') {
        // Features report outside the per-stage rows: the image's features_stage (null until the aggregate joined
        // them). An image asked for them if its requested analyses say so, or (recorded before they did) it has a report.
        select = select.where(sql<boolean>`('features' = any(i.requested_analyses) or i.features_stage is not null)`);
        if (query.mode === 'missing') {
          select = select.where(
            sql<boolean>`(i.features_stage is null
              or i.features_stage->>'status' is distinct from 'completed'
              or i.features_stage->'model'->>'name' is distinct from ${model!.name}
              or i.features_stage->'model'->>'version' is distinct from ${model!.version}
              or i.features_stage->'model'->>'sha256' is distinct from ${model!.sha256})`,
          );
        }
      } else {
        const stage = query.stage;
        select = select.where((eb) =>
          eb.exists(
            eb
              .selectFrom('image_stages as s')
              .select('s.stage')
              .whereRef('s.image_id', '=', 'i.id')
              .where('s.stage', '=', stage)
              .where('s.status', '<>', 'skipped')
              .$if(query.mode === 'missing', (missing) =>
                missing.where((inner) =>
                  model && stage !== 'preprocess'
                    ? inner.or([
                        inner('s.status', '<>', 'completed'),
                        stage === 'ocr'
                          ? // An image whose upload named an OCR model set is read by that set whatever the workers
                            // run: beyond a read that did not complete, it misses its result only when that set is the
                            // workers' own and the result came from another version of it.
                            sql<boolean>`(i.requested_ocr_model is null or s.model_name = ${model.name})
                              and (s.model_name is distinct from ${model.name}
                                or s.model_version is distinct from ${model.version}
                                or s.model_sha256 is distinct from ${model.sha256})`
                          : sql<boolean>`(s.model_name is distinct from ${model.name}
                              or s.model_version is distinct from ${model.version}
                              or s.model_sha256 is distinct from ${model.sha256})`,
                      ])
                    : inner('s.status', '<>', 'completed'),
                ),
              ),
          ),
        );
      }
      if (after) {
        const { createdAt, id } = after;
        select = select.where(sql<boolean>`(i.created_at, i.id) > (${createdAt}, ${id}::uuid)`);
      }
      return select.orderBy('i.created_at').orderBy('i.id').limit(PAGE).execute();
    });
    if (rows.length === 0) return;
    yield rows.map((row) => ({
      imageId: row.id,
      tenantId: row.tenant_id,
      event: reprocessEvent(query.stage, row),
    }));
    const last = rows.at(-1)!;
    after = { createdAt: last.created_at, id: last.id };
    if (rows.length < PAGE) return;
  }
}

function reprocessEvent(
  stage: ReprocessStage,
  row: {
    id: string;
    tenant_id: string;
    source_name: string | null;
    content_type: string | null;
    byte_size: string | null;
    sha256: string | null;
    blob_bucket: string | null;
    blob_key: string | null;
    requested_analyses: string[];
    attributes: Record<string, string>;
    requested_ocr_model: string | null;
    requested_ocr_languages: string[] | null;
  },
): ImageUploaded {
  const contentType = row.content_type ?? 'application/octet-stream';
  const size = Number(row.byte_size);
  const sha256 = row.sha256!;
  // preprocess re-runs what the image asked for (features included); a stage re-runs alone.
  const requested = [...ANALYSES, 'features' as const].filter((analysis) => row.requested_analyses.includes(analysis));
  const analyses: UploadAnalysisName[] = stage === 'preprocess' ? requested : [stage];
  return {
    imageId: row.id,
    tenantId: row.tenant_id,
    occurredAt: Date.now(),
    sha256,
    size,
    contentType,
    blob: { bucket: row.blob_bucket!, key: row.blob_key!, sha256, size, contentType },
    analyses,
    // The producer's attributes, as the original upload carried them: the re-run's events and analysis keep them.
    attributes: row.attributes,
    // A re-run re-runs models; renditions depend on none, so the image keeps the ones it has (the aggregate's join).
    renditions: [],
    ...(row.source_name ? { source: row.source_name } : {}),
    // The OCR model set the upload named: the re-run reads the image with it again, not with the workers' default.
    ...(row.requested_ocr_model ? { ocrModel: row.requested_ocr_model } : {}),
    // And the languages it restricted OCR to.
    ...(row.requested_ocr_languages ? { ocrLanguages: row.requested_ocr_languages } : {}),
  };
}
