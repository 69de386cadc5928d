import { randomUUID } from 'node:crypto';
import { ANALYSES, type AnalysisName, type ImageStatus } from '@imgpipe/contracts';
import { ImgpipeError } from '@imgpipe/core';
import {
  type Database,
  findRecentBySha,
  getImage,
  type ImageView,
  recordImageUploaded,
  ResultsRepository,
} from '@imgpipe/results';
import { guardedFetch, type SsrfGuard } from '@imgpipe/egress';
import type { ImagePublisher } from '@imgpipe/publisher';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import { type CheckedImage, checkImage } from './image-intake.ts';

export interface IngestOptions {
  analyses: AnalysisName[];
  sourceName?: string;
  callbackUrl?: string;
  attributes?: Record<string, string>;
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
  guard: SsrfGuard;
  maxImageBytes: number;
  dedupWindowSeconds: number;
  urlFetchTimeoutMs: number;
  imageDeadlineMs: number;
}

const TERMINAL: ReadonlySet<ImageStatus> = new Set(['completed', 'partial', 'failed']);
/** How long a concurrent upload of the same bytes waits on the first one's claim. */
const CLAIM_MS = 30_000;

/**
 * Accepting an image: checked before anything is stored, deduplicated against the tenant's recent uploads of the same
 * bytes, stored and announced through the ImagePublisher (S3, then ImageUploaded with the trace context), and recorded
 * as pending at once so that reads, SSE and deduplication see it before the results service catches up.
 */
export class IngestService {
  readonly #options: IngestServiceOptions;
  readonly #repository: ResultsRepository;

  constructor(options: IngestServiceOptions) {
    this.#options = options;
    this.#repository = new ResultsRepository(options.db, { defaultDeadlineMs: options.imageDeadlineMs });
  }

  check(bytes: Buffer): CheckedImage {
    return checkImage(bytes, this.#options.maxImageBytes);
  }

  /** Refuses a callback URL the webhook sender would refuse, at upload time rather than at completion. */
  async checkCallbackUrl(url: string | undefined): Promise<void> {
    if (url !== undefined) await this.#options.guard.check(url);
  }

  /** Fetches an image by URL behind the SSRF guard, with the byte and time caps. */
  async fetchUrl(url: string): Promise<{ bytes: Buffer; sourceName: string }> {
    const response = await guardedFetch(this.#options.guard, url, {
      maxBytes: this.#options.maxImageBytes,
      timeoutMs: this.#options.urlFetchTimeoutMs,
    });
    if (response.status < 200 || response.status >= 300) {
      throw new ImgpipeError('URL_FETCH_FAILED', `the URL answered ${response.status}`);
    }
    const path = new URL(response.url).pathname;
    return {
      bytes: response.body,
      sourceName: decodeURIComponent(path.split('/').pop() || new URL(response.url).host),
    };
  }

  async ingest(tenantId: string, image: CheckedImage, options: IngestOptions): Promise<IngestOutcome> {
    const existing = await this.#findDuplicate(tenantId, image.sha256, options.analyses);
    if (existing) return existing;
    const imageId = randomUUID();
    const claimKey = this.#claimKey(tenantId, image.sha256, options.analyses);
    if (claimKey) {
      const claimed = await this.#options.redis.set(claimKey, imageId, 'PX', CLAIM_MS, 'NX');
      if (claimed !== 'OK') {
        const other = await this.#options.redis.get(claimKey);
        if (other) return { imageId: other, status: 'pending', deduplicated: true };
      }
    }
    try {
      const event = await this.#options.publisher.publish({
        bytes: image.bytes,
        tenantId,
        imageId,
        contentType: image.contentType,
        analyses: options.analyses,
        ...(options.sourceName ? { sourceName: options.sourceName } : {}),
        ...(options.callbackUrl ? { callbackUrl: options.callbackUrl } : {}),
        ...(options.attributes ? { attributes: options.attributes } : {}),
      });
      // The pending row, written the one way the results service writes it (idempotent, either order).
      await recordImageUploaded(this.#repository, event);
    } catch (error) {
      if (claimKey) await this.#options.redis.del(claimKey).catch(() => undefined);
      throw error;
    }
    return {
      imageId,
      status: 'pending',
      deduplicated: false,
      ...(options.sourceName ? { sourceName: options.sourceName } : {}),
    };
  }

  /** The tenant's recent image with these bytes that ran (or is running) at least the analyses asked for. */
  async #findDuplicate(tenantId: string, sha256: string, analyses: AnalysisName[]): Promise<IngestOutcome | undefined> {
    const windowSeconds = this.#options.dedupWindowSeconds;
    if (windowSeconds === 0) return undefined;
    const recent = await findRecentBySha(
      this.#options.db,
      tenantId,
      sha256,
      new Date(Date.now() - windowSeconds * 1000),
    );
    if (!recent || recent.status === 'failed') return undefined;
    const wanted = analyses.length > 0 ? analyses : ANALYSES;
    if (!wanted.every((analysis) => recent.requestedAnalyses.includes(analysis))) return undefined;
    const result = TERMINAL.has(recent.status) ? await getImage(this.#options.db, tenantId, recent.imageId) : undefined;
    return {
      imageId: recent.imageId,
      status: recent.status,
      deduplicated: true,
      ...(result?.sourceName ? { sourceName: result.sourceName } : {}),
      ...(result ? { result } : {}),
    };
  }

  #claimKey(tenantId: string, sha256: string, analyses: AnalysisName[]): string | undefined {
    if (this.#options.dedupWindowSeconds === 0) return undefined;
    const wanted = analyses.length > 0 ? [...analyses].sort().join(',') : 'all';
    return `imgpipe:${tenantId}:upload-claim:${sha256}:${wanted}`;
  }
}
