export interface PreprocessOptions {
  /** Refuse inputs above this many bytes (IMAGE_TOO_LARGE). */
  maxBytes: number;
  /** Refuse images whose header declares more pixels (IMAGE_TOO_MANY_PIXELS), before any decoding. */
  maxPixels: number;
  /** Report GPS coordinates (otherwise only hasGps). */
  keepGps: boolean;
  /** Long side of the normalised image the models take. */
  normalizedMaxSide: number;
  /** Long side of the WebP thumbnail. */
  thumbnailSize: number;
}

/** The largest long side a deployment may give the normalised image (IMGPIPE_NORMALIZED_MAX_SIDE's upper bound). */
export const NORMALIZED_MAX_SIDE_LIMIT = 8192;

export const DEFAULT_PREPROCESS_OPTIONS: Readonly<PreprocessOptions> = Object.freeze({
  maxBytes: 50 * 1024 * 1024,
  maxPixels: 100_000_000,
  keepGps: false,
  normalizedMaxSide: 1280,
  thumbnailSize: 256,
});
