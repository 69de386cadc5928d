import { randomUUID } from 'node:crypto';
import { setTimeout } from 'node:timers/promises';
import {
  askedAnalyses,
  type ImageStatus,
  canonicalOcrLanguages,
  UPLOAD_ANALYSES,
  type UploadAnalysisName,
} from '@imgpipe/contracts';
import { ImgpipeError } from '@imgpipe/core';
import { guardedFetch, type SsrfGuard } from '@imgpipe/egress';
import type { ImagePublisher } from '@imgpipe/publisher';
import {
  type Database,
  findRecentBySha,
  getImage,
  type ImageView,
  ResultsRepository,
  UploadRecorder,
} from '@imgpipe/results';
import { originalKey } from '@imgpipe/storage';
import type { Logger } from '@imgpipe/telemetry';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { DependencyBreakers } from './dependency-breakers.ts';
import { type CheckedImage, checkImage } from './image-intake.ts';
import { cleanName } from './text-rules.ts';
import { uploadEventBytes } from './upload-event.ts';
import { SOURCE_NAME_MAX } from './upload-schemas.ts';

export interface IngestOptions {
  analyses: UploadAnalysisName[];
  /** Rendition presets (names the API checked against its configuration). */
  renditions?: string[];
  sourceName?: string;
  callbackUrl?: string;
  attributes?: Record<string, string>;
  /**
   * The OCR model set the upload named; absent: the deployment's. Part of what deduplication compares: the same
   * bytes asking for another set (or for none) are another image.
   */
  ocrModel?: string;
  /** Languages to restrict OCR to, in catalogue order; compared by deduplication as the set is. */
  ocrLanguages?: string[];
}

export interface IngestOutcome {
  imageId: string;
  status: ImageStatus;
  deduplicated: boolean;
  sourceName?: string;
  /** A deduplicated image that has already finished. */
  result?: ImageView;
}

export interface IngestServiceOptions {
  db: Kysely<Database>;
  redis: Redis;
  publisher: ImagePublisher;
  /** Where the publisher stores originals: a refused event's original is deleted again. */
  blobs: { readonly bucket: string; delete(key: string): Promise<void> };
  guard: SsrfGuard;
  breakers: DependencyBreakers;
  maxImageBytes: number;
  maxEventBytes: number;
  dedupWindowSeconds: number;
  urlFetchTimeoutMs: number;
  imageDeadlineMs: number;
  logger?: Logger;
}

const TERMINAL: ReadonlySet<ImageStatus> = new Set(['completed', 'partial', 'failed']);
/** How long an upload's claim on its bytes lasts: longer than storing and announcing one image takes. */
const CLAIM_MS = 30_000;
/** How long an identical upload waits for the claiming upload's outcome before answering 409 UPLOAD_IN_FLIGHT. */
const CLAIM_WAIT_MS = 10_000;
/** A claim's value once its upload's event is produced: the image exists, so identical uploads may answer with it. */
const DELIVERED = 'delivered:';

/**
 * Accepting an image: checked before anything is stored (bytes, format, and the size of the event it will produce),
 * deduplicated against the tenant's recent uploads of the same bytes, stored and announced through the
 * ImagePublisher (S3, then ImageUploaded with the trace context), and recorded as pending at once so that reads, SSE
 * and deduplication see it before the results service catches up.
 *
 * No image exists that its client is not told about: when the event cannot be produced, the original just stored
 * is deleted again (unless another image of the tenant uses the same content-addressed object); once the event is
 * produced the image exists, so a failure to record it afterwards is logged and the upload still answered (the
 * results service records it from the event).
 */
export class IngestService {
  readonly #options: IngestServiceOptions;
  readonly #recorder: UploadRecorder;

  constructor(options: IngestServiceOptions) {
    this.#options = options;
    const repository = new ResultsRepository(options.db, { defaultDeadlineMs: options.imageDeadlineMs });
    this.#recorder = new UploadRecorder(repository, options.db);
  }

  check(bytes: Buffer): CheckedImage {
    return checkImage(bytes, this.#options.maxImageBytes);
  }

  /** Refuses a callback URL the webhook sender would refuse, at upload time rather than at completion. */
  async checkCallbackUrl(url: string | undefined): Promise<void> {
    if (url !== undefined) await this.#options.guard.check(url);
  }

  /**
   * Refuses (413 REQUEST_EVENT_TOO_LARGE) an upload whose ImageUploaded, encoded as the publisher will encode it,
   * would be larger than the broker takes: checked before the original is stored.
   */
  checkEventSize(tenantId: string, image: CheckedImage, options: IngestOptions): void {
    const bytes = uploadEventBytes({
      tenantId,
      sha256: image.sha256,
      size: image.bytes.byteLength,
      contentType: image.contentType,
      bucket: this.#options.blobs.bucket,
      key: originalKey(tenantId, image.sha256),
      ...options,
    });
    if (bytes > this.#options.maxEventBytes) {
      throw new ImgpipeError(
        'REQUEST_EVENT_TOO_LARGE',
        `the upload's event would be ${bytes} bytes, over the limit of ${this.#options.maxEventBytes}: send fewer or shorter attributes`,
      );
    }
  }

  /** Fetches an image by URL behind the SSRF guard, with the byte and time caps and a circuit breaker per host. */
  async fetchUrl(url: string): Promise<{ bytes: Buffer; sourceName: string }> {
    const response = await guardedFetch(this.#options.guard, url, {
      maxBytes: this.#options.maxImageBytes,
      timeoutMs: this.#options.urlFetchTimeoutMs,
      breakers: this.#options.breakers.egress,
    });
    if (response.status < 200 || response.status >= 300) {
      throw new ImgpipeError('URL_FETCH_FAILED', `the URL answered ${response.status}`);
    }
    const answered = new URL(response.url);
    const last = answered.pathname.split('/').pop() ?? '';
    return { bytes: response.body, sourceName: cleanName(decodePathSegment(last) || answered.host, SOURCE_NAME_MAX) };
  }

  async ingest(tenantId: string, image: CheckedImage, options: IngestOptions): Promise<IngestOutcome> {
    const imageId = randomUUID();
    // Independent lookups, so they overlap: a duplicate found in PostgreSQL releases the claim just taken.
    const [found, claimKey] = await Promise.all([
      this.#findDuplicate(tenantId, image.sha256, options),
      this.#claim(tenantId, image.sha256, options, imageId),
    ]);
    if (typeof claimKey === 'object') return found && found.status !== 'pending' ? found : claimKey;
    // A pending row may be an upload still being stored, or one that failed and whose row is being removed: it was
    // read before this upload held the claim, so it is read again now that no other upload of these bytes is running.
    const existing =
      found?.status === 'pending' && claimKey ? await this.#findDuplicate(tenantId, image.sha256, options) : found;
    if (existing) {
      if (claimKey) await this.#unclaim(claimKey);
      return existing;
    }
    const { publisher, breakers } = this.#options;
    const event = publisher.compose({
      bytes: image.bytes,
      sha256: image.sha256,
      tenantId,
      imageId,
      contentType: image.contentType,
      analyses: options.analyses,
      ...(options.renditions?.length ? { renditions: options.renditions } : {}),
      ...(options.sourceName ? { sourceName: options.sourceName } : {}),
      ...(options.callbackUrl ? { callbackUrl: options.callbackUrl } : {}),
      ...(options.attributes ? { attributes: options.attributes } : {}),
      ...(options.ocrModel ? { ocrModel: options.ocrModel } : {}),
      ...(options.ocrLanguages?.length ? { ocrLanguages: options.ocrLanguages } : {}),
    });
    // The pending row is written while the original is stored and the event produced, written the one way the
    // results service writes it (idempotent, either order), so reads, SSE and deduplication see the image at once.
    const [delivered, recorded] = await Promise.allSettled([
      publisher.deliver(event, image.bytes),
      breakers.database(() => this.#recorder.record(event)),
    ]);
    if (delivered.status === 'rejected') {
      if (recorded.status === 'fulfilled') await this.#discard(tenantId, imageId);
      // The original goes before the claim does: an identical upload waiting on the claim takes it over and stores the
      // original again, which a removal after the release could delete under it.
      await this.#removeOrphan(tenantId, image.sha256, delivered.reason);
      if (claimKey) await this.#unclaim(claimKey);
      throw delivered.reason;
    }
    if (claimKey) this.#markDelivered(claimKey, imageId);
    if (recorded.status === 'rejected') {
      // The event is produced, so the image exists: the results service records it from the event.
      this.#options.logger?.warn(
        { err: (recorded.reason as Error).message, imageId, tenantId },
        'upload produced but not yet recorded; the results service will record it',
      );
    }
    return {
      imageId,
      status: 'pending',
      deduplicated: false,
      ...(options.sourceName ? { sourceName: options.sourceName } : {}),
    };
  }

  /** The pending row of an upload whose event was not produced: removed, or left to the deadline sweep. */
  async #discard(tenantId: string, imageId: string): Promise<void> {
    try {
      await this.#options.breakers.database(() => this.#recorder.discard(tenantId, imageId));
    } catch (error) {
      this.#options.logger?.warn(
        { err: (error as Error).message, imageId, tenantId },
        'could not remove the pending row of a refused upload; the deadline sweep will fail it',
      );
    }
  }

  /**
   * After the event could not be produced: deletes the original the publisher stored, unless an image of the tenant
   * already refers to the same content-addressed object. A failed clean-up is logged (a stray original is storage,
   * not an image).
   */
  async #removeOrphan(tenantId: string, sha256: string, cause: unknown): Promise<void> {
    const key = originalKey(tenantId, sha256);
    try {
      const used = await this.#options.breakers.database(() =>
        this.#options.db
          .selectFrom('images')
          .select('id')
          .where('tenant_id', '=', tenantId)
          .where('sha256', '=', sha256)
          .limit(1)
          .executeTakeFirst(),
      );
      if (!used) await this.#options.breakers.storage(() => this.#options.blobs.delete(key));
    } catch (error) {
      this.#options.logger?.warn(
        { err: (error as Error).message, cause: (cause as Error).message, key },
        'could not remove the original of a refused upload',
      );
    }
  }

  /**
   * Claims the upload of these bytes for a moment, so a concurrent identical upload returns this image instead of
   * making another. Returns the claim key, the other upload's image once its event is produced, or undefined when
   * deduplication is off or Redis is unavailable (then concurrent duplicates are possible; the window check in
   * PostgreSQL still applies).
   *
   * An upload that finds the claim taken waits for the other one's outcome: its image exists only once its event is
   * produced, and it may yet fail (S3 or Kafka down), so answering with its id at once could promise an image that
   * never comes. When the other upload fails it releases the claim and this one takes it over; when neither happens
   * within CLAIM_WAIT_MS the answer is 409 UPLOAD_IN_FLIGHT, to be retried.
   */
  async #claim(
    tenantId: string,
    sha256: string,
    { analyses, renditions = [], ocrModel, ocrLanguages }: IngestOptions,
    imageId: string,
  ): Promise<string | IngestOutcome | undefined> {
    if (this.#options.dedupWindowSeconds === 0) return undefined;
    // What the upload asks for, as its record will store it (so `analyses=` and `analyses=detect,faces,ocr` are one
    // request, and `features` another part of it). Renditions are part of it too: the same bytes asking for other
    // presets are another upload; and so are the OCR model set and languages (no preset's name holds `@` or `~`).
    const presets = renditions.length > 0 ? `:${[...renditions].sort().join(',')}` : '';
    const set = ocrModel === undefined ? '' : `@${ocrModel}`;
    const languages = canonicalOcrLanguages(ocrLanguages);
    const restriction = languages === undefined ? '' : `~${languages.join(',')}`;
    const claimKey = `imgpipe:${tenantId}:upload-claim:${sha256}:${canonicalAnalyses(analyses).join(',')}${presets}${set}${restriction}`;
    try {
      const redis = this.#options.redis;
      const deadline = Date.now() + CLAIM_WAIT_MS;
      for (let pause = 10; ; pause = Math.min(pause * 2, 250)) {
        const claimed = await this.#options.breakers.cache(() => redis.set(claimKey, imageId, 'PX', CLAIM_MS, 'NX'));
        if (claimed === 'OK') return claimKey;
        const holder = await this.#options.breakers.cache(() => redis.get(claimKey));
        if (holder?.startsWith(DELIVERED)) {
          return { imageId: holder.slice(DELIVERED.length), status: 'pending', deduplicated: true };
        }
        if (Date.now() >= deadline) {
          throw new ImgpipeError(
            'UPLOAD_IN_FLIGHT',
            `an upload of the same bytes is still being stored after ${CLAIM_WAIT_MS / 1000} s; retry shortly`,
          );
        }
        await setTimeout(pause);
      }
    } catch (error) {
      if (error instanceof ImgpipeError && error.code === 'UPLOAD_IN_FLIGHT') throw error;
      this.#options.logger?.warn({ err: (error as Error).message }, 'upload claim skipped: Redis unavailable');
      return undefined;
    }
  }

  /** Marks the claim delivered (the image exists); not awaited: an identical upload waits for it at worst. */
  #markDelivered(claimKey: string, imageId: string): void {
    const { breakers, redis } = this.#options;
    breakers.cache(() => redis.set(claimKey, `${DELIVERED}${imageId}`, 'PX', CLAIM_MS, 'XX')).catch(() => undefined);
  }

  async #unclaim(claimKey: string): Promise<void> {
    await this.#options.breakers.cache(() => this.#options.redis.del(claimKey)).catch(() => undefined);
  }

  /**
   * The tenant's recent image with these bytes that ran (or is running) at least the analyses and the rendition
   * presets asked for, with the same OCR model set (none named matches only none named: the deployment's set may
   * change, a named one does not) and the same OCR languages.
   */
  async #findDuplicate(
    tenantId: string,
    sha256: string,
    { analyses, renditions = [], ocrModel, ocrLanguages }: IngestOptions,
  ): Promise<IngestOutcome | undefined> {
    const windowSeconds = this.#options.dedupWindowSeconds;
    if (windowSeconds === 0) return undefined;
    const { db, breakers } = this.#options;
    const recent = await breakers.database(() =>
      findRecentBySha(db, tenantId, sha256, new Date(Date.now() - windowSeconds * 1000), ocrModel, ocrLanguages),
    );
    if (!recent || recent.status === 'failed') return undefined;
    // The stored requested analyses are what that upload asked for (features included), counted as this one's are.
    if (!canonicalAnalyses(analyses).every((analysis) => recent.requestedAnalyses.includes(analysis))) return undefined;
    if (!renditions.every((name) => recent.requestedRenditions.includes(name))) return undefined;
    const result = TERMINAL.has(recent.status)
      ? await breakers.database(() => getImage(db, tenantId, recent.imageId))
      : undefined;
    return {
      imageId: recent.imageId,
      status: recent.status,
      deduplicated: true,
      ...(result?.sourceName ? { sourceName: result.sourceName } : {}),
      ...(result ? { result } : {}),
    };
  }
}

/** The analyses an upload asks for as its image's record stores them (askedAnalyses), in one order, each once. */
function canonicalAnalyses(analyses: readonly UploadAnalysisName[]): UploadAnalysisName[] {
  const asked = askedAnalyses({ analyses });
  return UPLOAD_ANALYSES.filter((analysis) => asked.includes(analysis));
}

/** A URL path segment as text; a malformed escape is kept as written rather than failing the upload. */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
