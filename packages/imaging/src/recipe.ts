/**
 * A recipe: an ordered list of operations on one image, ending in an encoded output. The same value is written as
 * JSON (`{ "ops": [{ "op": "resize", "width": 800 }, ...] }`) or as a compact string (`resize:800x/sharpen/format:webp`);
 * parseRecipe reads either into this normalised form (every default filled in, irrelevant arguments reset), and
 * formatRecipe writes its one canonical string, so equal recipes have equal strings (a cache key).
 *
 * Three operations are settings rather than steps (format, metadata, auto-orient): each appears at most once, applies
 * to the whole recipe wherever it is written, and the canonical form lists them last.
 */

export const FITS = ['contain', 'cover', 'fill', 'inside', 'outside'] as const;
export type Fit = (typeof FITS)[number];

export const KERNELS = [
  'nearest',
  'linear',
  'cubic',
  'mitchell',
  'lanczos2',
  'lanczos3',
  'mks2013',
  'mks2021',
] as const;
export type Kernel = (typeof KERNELS)[number];

export const GRAVITIES = [
  'centre',
  'north',
  'north-east',
  'east',
  'south-east',
  'south',
  'south-west',
  'west',
  'north-west',
] as const;
export type Gravity = (typeof GRAVITIES)[number];

/** Content-aware positions: `smart` is libvips' attention strategy (skin, saturation, edges), `entropy` its entropy one. */
export const SMART_POSITIONS = ['smart', 'entropy'] as const;
export type SmartPosition = (typeof SMART_POSITIONS)[number];
export type Position = Gravity | SmartPosition;
export const POSITIONS: readonly Position[] = [...GRAVITIES, ...SMART_POSITIONS];

export const EDGE_METHODS = ['sobel', 'laplacian'] as const;
export type EdgeMethod = (typeof EDGE_METHODS)[number];

export const OUTPUT_FORMATS = ['jpeg', 'png', 'webp', 'avif', 'tiff', 'gif', 'bmp'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
export const FORMAT_CHOICES = [...OUTPUT_FORMATS, 'auto'] as const;
export type FormatChoice = (typeof FORMAT_CHOICES)[number];

/** icc: keep the colour profile, drop EXIF (with GPS), XMP and IPTC; strip: drop all, convert to sRGB; keep: keep all. */
export const METADATA_MODES = ['icc', 'strip', 'keep'] as const;
export type MetadataMode = (typeof METADATA_MODES)[number];

export type Unit = 'px' | 'fraction';

/** A colour as lowercase hex, `rrggbb` or `rrggbbaa` (no `#`: it must travel in a URL path). */
export type Colour = string;

export interface ResizeOp {
  op: 'resize';
  /** At least one of width and height; with one only, the other follows the aspect ratio. */
  width?: number;
  height?: number;
  fit: Fit;
  /** Scale images up when they are smaller than the box (default false). */
  enlarge: boolean;
  kernel: Kernel;
  /** Which part survives a `cover` crop, or where a `contain` image sits on its background. */
  position: Position;
  /** The padding of `contain`. */
  background: Colour;
}

export interface CropBoxOp {
  op: 'crop';
  mode: 'box';
  left: number;
  top: number;
  width: number;
  height: number;
  unit: Unit;
}

export interface CropSizeOp {
  op: 'crop';
  mode: 'size';
  /** At least one of width and height; a missing one keeps the image's. */
  width?: number;
  height?: number;
  unit: Unit;
  position: Position;
}

export interface CropDetectionsOp {
  op: 'crop';
  mode: 'faces' | 'objects';
  /** Objects only: the label to crop around (absent: every object). */
  label?: string;
  /** Added on each side, as a fraction of the detections' union box. */
  padding: number;
  /** Width and height of the aspect ratio to keep, e.g. [16, 9]. */
  aspect?: [number, number];
}

export type CropOp = CropBoxOp | CropSizeOp | CropDetectionsOp;

export interface RotateOp {
  op: 'rotate';
  /** Clockwise degrees, normalised to [0, 360). */
  angle: number;
  /** Fills the corners of angles that are not a multiple of 90. */
  background: Colour;
}

export type GeometryOp = ResizeOp | CropOp | RotateOp | { op: 'flip' } | { op: 'flop' };

export type FilterOp =
  | { op: 'blur'; radius: number }
  | { op: 'gaussian-blur'; sigma: number }
  | { op: 'median'; size: number }
  | { op: 'sharpen'; sigma: number; flat: number; jagged: number }
  | { op: 'edge'; method: EdgeMethod }
  | { op: 'emboss' }
  | { op: 'contour' }
  | { op: 'grayscale' }
  | { op: 'sepia' }
  | { op: 'negate' }
  | { op: 'threshold'; level: number }
  | { op: 'pixelate'; size: number };

export type EnhanceOp =
  | { op: 'brightness'; factor: number }
  | { op: 'contrast'; factor: number }
  | { op: 'saturation'; factor: number }
  | { op: 'hue'; degrees: number }
  | { op: 'gamma'; gamma: number }
  | { op: 'sharpness'; factor: number }
  | { op: 'auto-level'; lower: number; upper: number }
  | ClaheOp;

export interface ClaheOp {
  op: 'clahe';
  width: number;
  height: number;
  slope: number;
}

export interface FormatOp {
  op: 'format';
  format: FormatChoice;
  /** 1-100 for JPEG, WebP, AVIF; for PNG it turns on palette quantisation. Absent: the encoder's default. */
  quality?: number;
  /** Progressive JPEG, interlaced PNG and GIF. */
  progressive: boolean;
}

export type SettingOp = FormatOp | { op: 'metadata'; mode: MetadataMode } | { op: 'auto-orient'; enabled: boolean };

/** Operations that change pixels, in the order they run. */
export type PixelOp = GeometryOp | FilterOp | EnhanceOp;
export type Operation = PixelOp | SettingOp;
export type OperationName = Operation['op'];

export interface Recipe {
  ops: Operation[];
}

export const SETTING_OPS = ['format', 'metadata', 'auto-orient'] as const;

export function isSettingOp(op: Operation): op is SettingOp {
  return (SETTING_OPS as readonly string[]).includes(op.op);
}

/** A recipe's settings with their defaults, and its pixel operations in order. */
export interface RecipeParts {
  pixelOps: PixelOp[];
  /** Absent: the input's own format. */
  format?: FormatOp;
  metadata: MetadataMode;
  autoOrient: boolean;
}

export function recipeParts(recipe: Recipe): RecipeParts {
  const parts: RecipeParts = { pixelOps: [], metadata: 'icc', autoOrient: true };
  for (const op of recipe.ops) {
    if (op.op === 'format') parts.format = op;
    else if (op.op === 'metadata') parts.metadata = op.mode;
    else if (op.op === 'auto-orient') parts.autoOrient = op.enabled;
    else parts.pixelOps.push(op);
  }
  return parts;
}
