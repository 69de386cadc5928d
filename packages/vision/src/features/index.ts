/**
 * @imgpipe/vision/features: keypoints (SIFT, ORB with OpenCV's semantics), their compact stored form, matching
 * with a RANSAC homography, and near-duplicate search primitives on perceptual hashes. Pure functions; the
 * detector runs on the vision worker pool through detectKeypointsHandler.
 */
export {
  DEFAULT_FEATURES_MAX_PIXELS,
  type DetectKeypointsOptions,
  detectKeypoints,
  detectKeypointsHandler,
  type Features,
  type OrbFeatures,
  type SiftFeatures,
} from './detect-keypoints.ts';
export { compactKeypoints, float32Keypoints, shortestFloat32 } from './compact-keypoints.ts';
export { type DecodeFeatureImageOptions, decodeFeatureImage } from './decode-feature-image.ts';
export { decodeFeatures, encodeFeatures, FEATURES_CODEC_VERSION, type StoredFeatures } from './features-codec.ts';
export type { FeatureImage } from './grey.ts';
export { findHomography, type Homography, type HomographyOptions, type Point, projectPoint } from './homography.ts';
export {
  type DescriptorMatch,
  type DescriptorSet,
  type MatchOptions,
  matchDescriptors,
} from './match-descriptors.ts';
export {
  type FeatureMatch,
  type MatchableFeatures,
  type MatchFeaturesOptions,
  matchFeatures,
  matchFeaturesHandler,
} from './match-features.ts';
export {
  type KeypointsSvgOptions,
  keypointsSvg,
  type MatchPictureOptions,
  type MatchSide,
  matchPicture,
} from './match-picture.ts';
export {
  BkTree,
  HASH_BITS,
  hammingDistance64,
  hashSegments,
  nearDuplicateGroups,
  parseHash,
  segmentProbes,
} from './near-duplicates.ts';
export { ORB_DEFAULTS, type OrbParams } from './orb.ts';
export {
  DETECTORS,
  type Detector,
  type FeatureOptions,
  type FeatureOptionsInput,
  featureParamsKey,
  normalizeFeatureOptions,
} from './params.ts';
export { type Keypoint, releaseSiftMemory, SIFT_DEFAULTS, type SiftParams } from './sift.ts';
// The pool without the model stages: a process that only detects keypoints need not load onnxruntime.
export { createInProcessExecutor, type StageExecutor } from '../pool/executor.ts';
export { createWorkerPool, type WorkerPool } from '../pool/worker-pool.ts';
