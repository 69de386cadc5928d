/**
 * Matching two images' features: ratio-test correspondences, then the homography most of them agree on (RANSAC),
 * its inliers, and a verdict on whether the two show the same planar scene or object.
 *
 *   const found = matchFeatures(featuresA, featuresB);
 *   found.inliers.length, found.homography   // H maps A's pixels to B's
 */
import { handlerRef } from '../pool/handler-ref.ts';
import { findHomography, type HomographyOptions } from './homography.ts';
import { type DescriptorMatch, type DescriptorSet, type MatchOptions, matchDescriptors } from './match-descriptors.ts';
import type { Keypoint } from './sift.ts';

export interface MatchableFeatures extends DescriptorSet {
  keypoints: readonly Keypoint[];
}

export interface MatchFeaturesOptions extends MatchOptions, HomographyOptions {
  /** Inliers needed to call the images a match; default 10. */
  minInliers?: number;
}

export interface FeatureMatch {
  /** Ratio-test matches, A's keypoint (queryIndex) to B's (trainIndex). */
  matches: DescriptorMatch[];
  /** Row-major 3x3 from A's pixels to B's, when 4 or more matches agree on one. */
  homography?: number[];
  /** The matches the homography explains. */
  inliers: DescriptorMatch[];
  /** inliers.length >= minInliers. */
  matched: boolean;
}

export function matchFeatures(
  a: MatchableFeatures,
  b: MatchableFeatures,
  options: MatchFeaturesOptions = {},
): FeatureMatch {
  const matches = matchDescriptors(a, b, options);
  const found = findHomography(
    matches.map((m) => a.keypoints[m.queryIndex]!),
    matches.map((m) => b.keypoints[m.trainIndex]!),
    options,
  );
  const inliers = found ? matches.filter((_, i) => found.inliers[i]) : [];
  return {
    matches,
    ...(found ? { homography: found.matrix } : {}),
    inliers,
    matched: inliers.length >= (options.minInliers ?? 10),
  };
}

/** matchFeatures on the vision worker pool (brute-force matching is O(n·m) descriptor distances). */
export const matchFeaturesHandler = handlerRef<typeof matchFeatures>(import.meta.url, 'matchFeatures');
