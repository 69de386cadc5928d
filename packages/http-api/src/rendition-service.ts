/**
 * Renditions of stored images: a recipe applied to an image's original, rendered once and kept in S3 under a key
 * derived from the original's SHA-256 and what decides the output (renditionKey: the normalised recipe, the format
 * `format:auto` chose from Accept, the detections a faces/objects crop used). The ETag is derived from that key, so
 * a client's If-None-Match is answered (304) from one PostgreSQL row, without S3; a cache hit is one S3 read and
 * no rendering, or none at all when this process holds the rendition in its memory tier (a bounded LRU of recent
 * renditions: their bytes never change for a key). Concurrent misses of the same key in one process render once.
 *
 * Crops around faces and objects use the image's stored results (the Redis view, else PostgreSQL): when the stage
 * that finds them has not completed for the image, the recipe fails with TRANSFORM_DETECTIONS_UNAVAILABLE.
 */
import { createHash } from 'node:crypto';
import { ImgpipeError } from '@imgpipe/core';
import {
  type Detections,
  detectionNeedsOf,
  formatRecipe,
  negotiateFormat,
  parseRecipe,
  type Recipe,
  renditionVariant,
  type TransformLimits,
  validateRecipe,
} from '@imgpipe/imaging';
import { type Database, getImage, type ImageView, isImageId, type ResultsCache } from '@imgpipe/results';
import { originalKey, renditionKey, type StoredBlob } from '@imgpipe/storage';
import type { Kysely } from 'kysely';
import type { DependencyBreakers } from './dependency-breakers.ts';
import type { TransformPool } from './transform-pool.ts';

export interface RenditionBlobs {
  readonly bucket: string;
  get(ref: { bucket: string; key: string; sha256?: string }): Promise<Buffer>;
  find(key: string): Promise<StoredBlob | undefined>;
  put(
    key: string,
    bytes: Uint8Array,
    contentType: string,
    sha256?: string,
    metadata?: Record<string, string>,
  ): Promise<unknown>;
}

export interface RenditionServiceOptions {
  db: Kysely<Database>;
  cache: ResultsCache;
  blobs: RenditionBlobs;
  breakers: DependencyBreakers;
  pool: TransformPool;
  limits: TransformLimits;
  /**
   * Bytes of recent renditions kept in this process in front of S3 (least recently used dropped first; 0: none).
   * A rendition's bytes never change for its key, so a copy here is never stale.
   */
  memoryBytes?: number;
}

/** A rendition located: where it is (or will be) cached, and what the response says about it. */
export interface RenditionTarget {
  tenantId: string;
  imageId: string;
  recipe: Recipe;
  /** The normalised recipe string. */
  canonical: string;
  key: string;
  etag: string;
  /** The output format depends on the request's Accept header (`format:auto`): the response varies on it. */
  variesOnAccept: boolean;
  accept: string | undefined;
  original: { bucket: string; key: string; sha256: string };
  detections?: Detections;
}

export interface Rendition {
  bytes: Buffer;
  contentType: string;
  width: number;
  height: number;
  /** Served from a cache (true: this process's memory or S3) or rendered by this request (false). */
  cached: boolean;
}

function notFound(id: string): ImgpipeError {
  return new ImgpipeError('RESOURCE_NOT_FOUND', `no image ${id}`);
}

/** A recipe as the rendition URLs write it (the string form), checked against the limits: RECIPE_* errors. */
export function readRenditionRecipe(text: string, limits: TransformLimits): Recipe {
  if (text.trim().startsWith('{')) {
    throw new ImgpipeError('RECIPE_INVALID', 'a rendition URL takes the string form of a recipe');
  }
  return validateRecipe(parseRecipe(text), limits);
}

/** Whether an If-None-Match header matches the ETag (weak comparison, `*` matches any). */
export function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === '*' || tag === etag);
}

export class RenditionService {
  readonly #options: RenditionServiceOptions;
  readonly #rendering = new Map<string, Promise<Rendition>>();
  /** Recent renditions by key, least recently used first (a Map keeps insertion order). */
  readonly #memory = new Map<string, Rendition>();
  #memoryBytes = 0;
  /** Renders done by this process (not cache hits): what tests and the benchmark read. */
  renders = 0;

  constructor(options: RenditionServiceOptions) {
    this.#options = options;
  }

  get limits(): TransformLimits {
    return this.#options.limits;
  }

  /** The tenant's image's original (404 for another tenant's id or none), from the primary. */
  async original(
    tenantId: string,
    id: string,
  ): Promise<{ imageId: string; bucket: string; key: string; sha256: string }> {
    if (!isImageId(id)) throw notFound(id);
    const imageId = id.toLowerCase();
    const row = await this.#options.breakers.database(() =>
      this.#options.db
        .selectFrom('images')
        .select(['blob_bucket', 'blob_key', 'sha256'])
        .where('id', '=', imageId)
        .where('tenant_id', '=', tenantId)
        .executeTakeFirst(),
    );
    if (!row) throw notFound(id);
    if (!row.sha256) throw new ImgpipeError('STORAGE_OBJECT_NOT_FOUND', `image ${imageId} has no stored original yet`);
    if (row.blob_bucket && row.blob_key) {
      return { imageId, bucket: row.blob_bucket, key: row.blob_key, sha256: row.sha256 };
    }
    // An inline upload from a direct producer: preprocess stored it content-addressed.
    return { imageId, bucket: this.#options.blobs.bucket, key: originalKey(tenantId, row.sha256), sha256: row.sha256 };
  }

  /** Where the rendition of the recipe (already checked) is cached, and its ETag. */
  async locate(tenantId: string, id: string, recipe: Recipe, accept: string | undefined): Promise<RenditionTarget> {
    const original = await this.original(tenantId, id);
    const canonical = formatRecipe(recipe);
    const auto = recipe.ops.some((op) => op.op === 'format' && op.format === 'auto');
    const detections = await this.#detections(tenantId, original.imageId, recipe);
    // format:auto renders one of three formats; the class of the Accept header decides which (PNG for alpha
    // instead of JPEG is decided by the image and recipe, the same every time).
    const variant = renditionVariant(canonical, auto ? negotiateFormat(accept, false) : '', detections);
    const key = renditionKey(tenantId, original.sha256, variant);
    return {
      tenantId,
      imageId: original.imageId,
      recipe,
      canonical,
      key,
      etag: `"${createHash('sha256').update(key).digest('hex').slice(0, 32)}"`,
      variesOnAccept: auto,
      accept,
      original,
      ...(detections ? { detections } : {}),
    };
  }

  /** The rendition: from the S3 cache, else rendered (in the transform pool), stored, and returned. */
  async get(target: RenditionTarget): Promise<Rendition> {
    const remembered = this.#memory.get(target.key);
    if (remembered) {
      this.#memory.delete(target.key);
      this.#memory.set(target.key, remembered);
      return remembered;
    }
    const { blobs, breakers } = this.#options;
    const stored = await breakers.storage(() => blobs.find(target.key));
    if (stored) {
      const width = Number(stored.metadata['width']);
      const height = Number(stored.metadata['height']);
      if (Number.isInteger(width) && Number.isInteger(height)) {
        return this.#remember(target.key, {
          bytes: stored.bytes,
          contentType: stored.contentType,
          width,
          height,
          cached: true,
        });
      }
    }
    let rendering = this.#rendering.get(target.key);
    if (!rendering) {
      rendering = this.#render(target).finally(() => this.#rendering.delete(target.key));
      this.#rendering.set(target.key, rendering);
    }
    return rendering;
  }

  async #render(target: RenditionTarget): Promise<Rendition> {
    const { blobs, breakers, pool, limits } = this.#options;
    const input = await breakers.storage(() => blobs.get(target.original));
    const result = await pool.run(input, target.recipe, {
      limits,
      ...(target.accept !== undefined ? { accept: target.accept } : {}),
      ...(target.detections ? { detections: target.detections } : {}),
    });
    this.renders++;
    await breakers.storage(() =>
      blobs.put(target.key, result.bytes, result.contentType, undefined, {
        width: String(result.width),
        height: String(result.height),
        format: result.format,
        recipe: target.canonical,
      }),
    );
    this.#remember(target.key, {
      bytes: result.bytes,
      contentType: result.contentType,
      width: result.width,
      height: result.height,
      cached: true,
    });
    return {
      bytes: result.bytes,
      contentType: result.contentType,
      width: result.width,
      height: result.height,
      cached: false,
    };
  }

  #remember(key: string, rendition: Rendition): Rendition {
    const budget = this.#options.memoryBytes ?? 0;
    const size = rendition.bytes.byteLength;
    if (size > budget / 4) return rendition;
    const previous = this.#memory.get(key);
    if (previous) this.#memoryBytes -= previous.bytes.byteLength;
    this.#memory.delete(key);
    this.#memory.set(key, rendition);
    this.#memoryBytes += size;
    for (const [oldest, entry] of this.#memory) {
      if (this.#memoryBytes <= budget) break;
      this.#memory.delete(oldest);
      this.#memoryBytes -= entry.bytes.byteLength;
    }
    return rendition;
  }

  /** The stored faces or objects a recipe crops around; undefined when it crops around neither. */
  async #detections(tenantId: string, imageId: string, recipe: Recipe): Promise<Detections | undefined> {
    const needs = detectionNeedsOf(recipe);
    if (!needs.faces && !needs.objects) return undefined;
    const view = await this.#view(tenantId, imageId);
    const detections: Detections = {};
    if (needs.faces) {
      this.#requireStage(view, 'faces');
      detections.faces = view.faces.map((face) => ({ ...pixels(face.box), score: face.confidence }));
    }
    if (needs.objects) {
      this.#requireStage(view, 'detect');
      detections.objects = view.objects.map((object) => ({
        ...pixels(object.box),
        label: object.label,
        score: object.confidence,
      }));
    }
    return detections;
  }

  #requireStage(view: ImageView, stage: 'faces' | 'detect'): void {
    const status = view.stages[stage]?.status;
    if (status !== 'completed') {
      throw new ImgpipeError(
        'TRANSFORM_DETECTIONS_UNAVAILABLE',
        `the recipe crops around ${stage === 'faces' ? 'faces' : 'objects'}, and the image's ${stage} stage is ${status ?? 'not requested'}`,
        { details: { stage, status: status ?? null } },
      );
    }
  }

  async #view(tenantId: string, imageId: string): Promise<ImageView> {
    const { cache, breakers, db } = this.#options;
    const cached = await breakers.cache(() => cache.getLatest(tenantId, imageId)).catch(() => undefined);
    if (cached && cached.tenantId === tenantId && cached.status !== 'pending') return cached;
    const view = await breakers.database(() => getImage(db, tenantId, imageId));
    if (!view) throw notFound(imageId);
    return view;
  }
}

function pixels(box: { x: number; y: number; width: number; height: number }) {
  return { left: box.x, top: box.y, width: box.width, height: box.height };
}
