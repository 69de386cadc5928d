/**
 * POST /v1/match behind the route: two images' keypoints (through FeaturesService, so a repeat of the same bytes
 * and options is served by its Redis cache), Lowe's ratio-test matches and a RANSAC homography from A's pixels to
 * B's on the vision worker pool, and on request the annotated side-by-side picture (JPEG).
 *
 *   const found = await service.match([{ image: a }, { image: b }], { options, maxSide: 1280, ratio: 0.75 });
 *   found.body.inliers, found.body.homography
 *
 * Images are uploads (already checked) or a tenant's stored originals, read from S3 by `original`.
 */
import {
  type FeatureOptions,
  float32Keypoints,
  type MatchableFeatures,
  matchFeaturesHandler,
  matchPicture,
  type Point,
  projectPoint,
  type StageExecutor,
} from '@imgpipe/vision/features';
import type { FeaturesBody, FeaturesService } from './features-service.ts';
import { type CheckedImage, checkImage } from './image-intake.ts';

/** Inliers needed to call two images a match (as matchFeatures' default). */
export const MATCH_MIN_INLIERS = 10;
/** Inlier correspondences listed in the answer at most, best descriptor distance first. */
export const MATCH_MAX_CORRESPONDENCES = 200;

export interface MatchSettings {
  options: FeatureOptions;
  maxSide: number;
  /** Lowe's ratio, (0, 1]. */
  ratio: number;
}

export interface MatchSideBody {
  /** The stored image's id, when the side was one. */
  id?: string;
  sha256: string;
  width: number;
  height: number;
  /** Keypoints detected. */
  count: number;
  /** Whether its keypoints came from the features cache. */
  cache: 'hit' | 'miss' | 'bypass';
}

export interface MatchBody {
  detector: FeatureOptions['detector'];
  params: FeatureOptions['params'];
  maxSide: number;
  ratio: number;
  a: MatchSideBody;
  b: MatchSideBody;
  /** Ratio-test matches from A's keypoints to B's. */
  matches: number;
  /** The matches the homography explains (reprojection error <= 3 px in B). */
  inliers: number;
  /** inliers >= MATCH_MIN_INLIERS: the two show the same planar scene or object. */
  matched: boolean;
  /** Row-major 3x3 from A's pixels to B's (h33 = 1), or null when fewer than 4 matches agree on one. */
  homography: number[] | null;
  /** A's corners (0,0), (w-1,0), (w-1,h-1), (0,h-1) projected into B, or null without a homography. */
  corners: Point[] | null;
  /** Inlier correspondences, best descriptor distance first, at most MATCH_MAX_CORRESPONDENCES. */
  correspondences: { a: Point; b: Point; distance: number }[];
  timings: { featuresMs: number; matchMs: number };
}

export interface MatchInput {
  image: CheckedImage;
  id?: string;
}

export class MatchService {
  readonly #features: FeaturesService;
  readonly #executor: StageExecutor;
  readonly #original: (tenantId: string, id: string) => Promise<Buffer>;
  readonly #maxImageBytes: number;

  constructor(deps: {
    features: FeaturesService;
    executor: StageExecutor;
    /** A stored image's original bytes (404 for an id the tenant does not have). */
    original: (tenantId: string, id: string) => Promise<Buffer>;
    maxImageBytes: number;
  }) {
    this.#features = deps.features;
    this.#executor = deps.executor;
    this.#original = deps.original;
    this.#maxImageBytes = deps.maxImageBytes;
  }

  /** A tenant's stored image as a match input (its original from S3). */
  async stored(tenantId: string, id: string): Promise<MatchInput> {
    const bytes = await this.#original(tenantId, id);
    return { image: checkImage(bytes, Math.max(this.#maxImageBytes, bytes.byteLength)), id: id.toLowerCase() };
  }

  async match(
    inputs: readonly [MatchInput, MatchInput],
    settings: MatchSettings,
    options: { picture?: boolean } = {},
  ): Promise<{ body: MatchBody; picture?: Uint8Array }> {
    const started = performance.now();
    // One after the other: each detection already uses a pool thread, and a pixel bomb in A fails before B runs.
    const a = await this.#features.features(inputs[0].image, settings.options, settings.maxSide);
    const b = await this.#features.features(inputs[1].image, settings.options, settings.maxSide);
    const featuresMs = performance.now() - started;
    const fa = matchable(a.features);
    const fb = matchable(b.features);
    const found = await this.#executor.run(matchFeaturesHandler, fa, fb, {
      ratio: settings.ratio,
      minInliers: MATCH_MIN_INLIERS,
    });
    const matchMs = performance.now() - started - featuresMs;
    const side = (input: MatchInput, f: { features: FeaturesBody; cache: MatchSideBody['cache'] }): MatchSideBody => ({
      ...(input.id ? { id: input.id } : {}),
      sha256: f.features.sha256,
      width: f.features.width,
      height: f.features.height,
      count: f.features.count,
      cache: f.cache,
    });
    const { width, height } = a.features;
    const corners = found.homography
      ? [
          { x: 0, y: 0 },
          { x: width - 1, y: 0 },
          { x: width - 1, y: height - 1 },
          { x: 0, y: height - 1 },
        ].map((corner) => roundPoint(projectPoint(found.homography!, corner)))
      : null;
    const body: MatchBody = {
      detector: a.features.detector,
      params: a.features.params,
      maxSide: settings.maxSide,
      ratio: settings.ratio,
      a: side(inputs[0], a),
      b: side(inputs[1], b),
      matches: found.matches.length,
      inliers: found.inliers.length,
      matched: found.matched,
      homography: found.homography ?? null,
      corners: corners?.every((c) => Number.isFinite(c.x) && Number.isFinite(c.y)) ? corners : null,
      correspondences: [...found.inliers]
        .sort((p, q) => p.distance - q.distance)
        .slice(0, MATCH_MAX_CORRESPONDENCES)
        .map((m) => ({
          a: roundPoint(fa.keypoints[m.queryIndex]!),
          b: roundPoint(fb.keypoints[m.trainIndex]!),
          distance: Math.round(m.distance * 100) / 100,
        })),
      timings: { featuresMs: round1(featuresMs), matchMs: round1(matchMs) },
    };
    if (!options.picture) return { body };
    const picture = await matchPicture(
      { bytes: inputs[0].image.bytes, keypoints: fa.keypoints },
      { bytes: inputs[1].image.bytes, keypoints: fb.keypoints },
      found,
      { format: 'jpeg' },
    );
    return { body, picture };
  }
}

/** The JSON form back to typed descriptors (SIFT's bytes are its whole-number floats). */
function matchable(features: FeaturesBody): MatchableFeatures {
  const bytes = new Uint8Array(Buffer.from(features.descriptors, 'base64'));
  return {
    keypoints: float32Keypoints(features.keypoints),
    descriptorType: features.descriptorType,
    descriptorSize: features.descriptorSize,
    descriptors: features.descriptorType === 'float32' ? Float32Array.from(bytes) : bytes,
  };
}

const round1 = (value: number) => Math.round(value * 10) / 10;
const roundPoint = (p: Point): Point => ({ x: Math.round(p.x * 100) / 100, y: Math.round(p.y * 100) / 100 });
