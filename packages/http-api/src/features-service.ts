/**
 * POST /v1/features/detect behind the route: an image's keypoints and descriptors, answered from Redis when the
 * same bytes were detected with the same options before. The cache key is the bytes' SHA-256 and the canonical
 * options (featureParamsKey plus the detection size), so equal options spelled differently share an entry.
 * Redis goes through its circuit breaker and is optional: when it fails or its circuit is open, the features are
 * computed without the cache and the answer says X-Cache: bypass, never an error.
 *
 * Redis holds the hit's answer as JSON bytes, `"cached":true` inside: a hit sends them as they are, with no JSON
 * work (gzip was measured and not kept: inflating 157 KB cost the client more than the smaller write saved,
 * docs/features.md).
 *
 *   const { body, cache } = await service.detect(checked, { detector: 'sift', params: { nfeatures: 500 } }, 1280);
 *
 * Decoding runs in libvips' own threads, detection on the vision worker pool: the event loop only waits.
 */
import {
  compactKeypoints,
  decodeFeatureImage,
  detectKeypointsHandler,
  type FeatureOptions,
  type Features,
  featureParamsKey,
  type StageExecutor,
} from '@imgpipe/vision/features';
import type { Redis } from 'ioredis';
import type { DependencyBreakers } from './dependency-breakers.ts';
import type { CheckedImage } from './image-intake.ts';

/** The response body, as JSON: the same in a hit and a miss but for `cached`. */
export interface FeaturesBody {
  /** Whether this answer came from the cache (X-Cache: hit). */
  cached: boolean;
  sha256: string;
  detector: Features['detector'];
  params: Features['params'];
  /** The long side detection ran at (the image was downscaled to it); coordinates are the original's. */
  maxSide: number;
  width: number;
  height: number;
  count: number;
  keypoints: Features['keypoints'];
  descriptorType: Features['descriptorType'];
  descriptorSize: number;
  /** Base64 of one byte per value, keypoint after keypoint (SIFT's values are whole numbers 0-255: lossless). */
  descriptors: string;
  timings: { decodeMs: number; greyMs: number; detectMs: number };
}

export type CacheOutcome = 'hit' | 'miss' | 'bypass';

/** v2: the entry is the hit's answer, `cached: true` inside (v1 had no `cached`). */
export const FEATURES_CACHE_PREFIX = 'imgpipe:features:v2:';

/** The Redis key of an image's features for options that are already normalised. */
export function featuresCacheKey(sha256: string, options: FeatureOptions, maxSide: number): string {
  return `${FEATURES_CACHE_PREFIX}${sha256}:${featureParamsKey(options)}:maxSide=${maxSide}`;
}

export class FeaturesService {
  readonly #redis: Redis;
  readonly #breakers: DependencyBreakers;
  readonly #executor: StageExecutor;
  readonly #ttlSeconds: number;

  constructor(deps: { redis: Redis; breakers: DependencyBreakers; executor: StageExecutor; ttlSeconds: number }) {
    this.#redis = deps.redis;
    this.#breakers = deps.breakers;
    this.#executor = deps.executor;
    this.#ttlSeconds = deps.ttlSeconds;
  }

  async detect(
    image: CheckedImage,
    options: FeatureOptions,
    maxSide: number,
  ): Promise<{ body: Buffer; cache: CacheOutcome; key: string }> {
    const key = featuresCacheKey(image.sha256, options, maxSide);
    let cacheUp = true;
    try {
      const cached = await this.#breakers.cache(() => this.#redis.getBuffer(key));
      // The JSON's bytes as Redis holds them: sent as they are, never decoded to a string and encoded again.
      if (cached) return { body: cached, cache: 'hit', key };
    } catch {
      cacheUp = false; // Redis down or its circuit open: compute without the cache.
    }
    const features = await this.compute(image, options, maxSide);
    if (cacheUp) {
      try {
        const hit = JSON.stringify({ ...features, cached: true });
        await this.#breakers.cache(() => this.#redis.set(key, hit, 'EX', this.#ttlSeconds));
      } catch {
        cacheUp = false;
      }
    }
    const body = Buffer.from(JSON.stringify(features), 'utf8');
    return { body, cache: cacheUp ? 'miss' : 'bypass', key };
  }

  /** The features as detect() answers them (from the cache when there), parsed: what matching starts from. */
  async features(
    image: CheckedImage,
    options: FeatureOptions,
    maxSide: number,
  ): Promise<{ features: FeaturesBody; cache: CacheOutcome }> {
    const found = await this.detect(image, options, maxSide);
    return { features: JSON.parse(found.body.toString('utf8')) as FeaturesBody, cache: found.cache };
  }

  async compute(image: CheckedImage, options: FeatureOptions, maxSide: number): Promise<FeaturesBody> {
    const started = performance.now();
    const pixels = await decodeFeatureImage(image.bytes, { maxSide });
    const decodeMs = performance.now() - started;
    const features = await this.#executor.run(detectKeypointsHandler, pixels, options);
    const d = features.descriptors;
    const bytes = features.detector === 'sift' ? Uint8Array.from(d) : (d as Uint8Array);
    return {
      cached: false,
      sha256: image.sha256,
      detector: features.detector,
      params: features.params,
      maxSide,
      width: features.width,
      height: features.height,
      count: features.keypoints.length,
      keypoints: compactKeypoints(features.keypoints),
      descriptorType: features.descriptorType,
      descriptorSize: features.descriptorSize,
      descriptors: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
      timings: {
        decodeMs: round1(decodeMs),
        greyMs: round1(features.timings.greyMs),
        detectMs: round1(features.timings.detectMs),
      },
    };
  }
}

const round1 = (value: number) => Math.round(value * 10) / 10;
