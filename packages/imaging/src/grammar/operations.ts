/**
 * The vocabulary of the recipe language: every operation, its arguments in string order, their ranges and defaults.
 * Parsing, canonical formatting, the JSON Schema and docs/transform.md all follow this one table.
 *
 * Ranges here are what the language allows at all; the configured limits (limits.ts) may be stricter and are
 * checked by validateRecipe.
 */
import {
  EDGE_METHODS,
  FITS,
  FORMAT_CHOICES,
  GRAVITIES,
  KERNELS,
  METADATA_MODES,
  type Operation,
  type OperationName,
  POSITIONS,
} from '../recipe.ts';
import type { EnumParam, Param } from './params.ts';

export interface Variant {
  /** The JSON `mode` of this form; absent for operations with one form. */
  readonly mode?: string;
  /** The string form's first token naming this form (`crop:faces:...`). */
  readonly keyword?: string;
  /** For a form without a keyword: whether the string tokens are this form. */
  readonly accepts?: (tokens: readonly string[]) => boolean;
  readonly params: readonly Param[];
  /** Coordinates and sizes carry a unit, px or fraction, read from how they are written (a decimal point). */
  readonly unit?: boolean;
}

export type Family = 'geometry' | 'filter' | 'enhance' | 'output';

export interface OpSpec {
  readonly op: OperationName;
  readonly aliases?: readonly string[];
  readonly family: Family;
  readonly summary: string;
  readonly variants: readonly Variant[];
  /** Resets arguments that have no effect, so recipes with the same effect have the same canonical form. */
  readonly normalise?: (op: Record<string, unknown>) => void;
  /** A problem spanning several arguments, or undefined. */
  readonly check?: (op: Record<string, unknown>) => string | undefined;
}

/** The largest side any operation may name; the output pixel limit is usually the tighter bound. */
export const MAX_SIDE = 65_535;

const GRAVITY_ALIASES: Record<string, string> = {
  center: 'centre',
  c: 'centre',
  n: 'north',
  ne: 'north-east',
  e: 'east',
  se: 'south-east',
  s: 'south',
  sw: 'south-west',
  w: 'west',
  nw: 'north-west',
  northeast: 'north-east',
  southeast: 'south-east',
  southwest: 'south-west',
  northwest: 'north-west',
  attention: 'smart',
  sm: 'smart',
};

const position = (doc: string): EnumParam => ({
  kind: 'enum',
  name: 'position',
  values: POSITIONS,
  aliases: GRAVITY_ALIASES,
  default: 'centre',
  doc,
});

const padding: Param = {
  kind: 'number',
  name: 'padding',
  min: 0,
  max: 10,
  default: 0.1,
  doc: 'added on every side, as a fraction of the width and height of the box around the detections',
};
const aspect: Param = { kind: 'ratio', name: 'aspect', doc: 'keep this aspect ratio, e.g. 16x9 (default: none)' };
const factor = (doc: string): Param => ({ kind: 'number', name: 'factor', min: 0, max: 10, doc });
const none = [{ params: [] }] as const;

export const OPERATIONS: readonly OpSpec[] = [
  {
    op: 'resize',
    family: 'geometry',
    summary: 'Scale to a width and/or height, keeping the aspect ratio unless fit is fill',
    variants: [
      {
        params: [
          { kind: 'size', name: 'size', fractions: false, max: MAX_SIDE, doc: '`WxH`, `Wx` or `xH` in pixels' },
          {
            kind: 'enum',
            name: 'fit',
            values: FITS,
            default: 'inside',
            doc: 'inside: within the box; outside: covers the box; cover: covers then crops to it; contain: within, then padded to it; fill: exactly the box, aspect ignored',
          },
          { kind: 'bool', name: 'enlarge', default: false, doc: 'scale up images smaller than the box' },
          { kind: 'enum', name: 'kernel', values: KERNELS, default: 'lanczos3', doc: 'the resampling kernel' },
          position('cover: the part kept (a gravity, smart or entropy); contain: where the image sits'),
          { kind: 'colour', name: 'background', default: '000000', doc: 'the padding colour of contain' },
        ],
      },
    ],
    normalise(op) {
      const both = op['width'] !== undefined && op['height'] !== undefined;
      if (!both) op['fit'] = 'inside';
      if (op['fit'] !== 'cover' && op['fit'] !== 'contain') op['position'] = 'centre';
      if (op['fit'] === 'contain' && (op['position'] === 'smart' || op['position'] === 'entropy')) {
        op['position'] = 'centre';
      }
      if (op['fit'] !== 'contain') op['background'] = '000000';
    },
  },
  {
    op: 'crop',
    family: 'geometry',
    summary: 'Cut out a box, a size at a gravity or smart position, or the area around detected faces or objects',
    variants: [
      {
        mode: 'faces',
        keyword: 'faces',
        params: [padding, aspect],
      },
      {
        mode: 'objects',
        keyword: 'objects',
        params: [
          { kind: 'label', name: 'label', doc: 'crop around objects with this label only (default: every object)' },
          padding,
          aspect,
        ],
      },
      {
        mode: 'size',
        unit: true,
        accepts: (tokens) => tokens[0]?.includes('x') === true,
        params: [
          {
            kind: 'size',
            name: 'size',
            fractions: true,
            max: MAX_SIDE,
            doc: '`WxH`, `Wx` or `xH`: pixels, or fractions of the image written with a decimal point',
          },
          position('the part kept: a gravity, smart or entropy'),
        ],
      },
      {
        mode: 'box',
        unit: true,
        accepts: (tokens) => tokens.length === 4,
        params: [
          { kind: 'coord', name: 'left', max: MAX_SIDE, positive: false, doc: 'left edge' },
          { kind: 'coord', name: 'top', max: MAX_SIDE, positive: false, doc: 'top edge' },
          { kind: 'coord', name: 'width', max: MAX_SIDE, positive: true, doc: 'width' },
          { kind: 'coord', name: 'height', max: MAX_SIDE, positive: true, doc: 'height' },
        ],
      },
    ],
  },
  {
    op: 'rotate',
    family: 'geometry',
    summary: 'Rotate clockwise by any angle; multiples of 90 are lossless, others fill the corners',
    variants: [
      {
        params: [
          { kind: 'number', name: 'angle', min: -360, max: 360, doc: 'clockwise degrees' },
          { kind: 'colour', name: 'background', default: '000000', doc: 'the colour of the corners' },
        ],
      },
    ],
    normalise(op) {
      const angle = (((op['angle'] as number) % 360) + 360) % 360;
      op['angle'] = Object.is(angle, -0) ? 0 : angle;
      if (angle % 90 === 0) op['background'] = '000000';
    },
  },
  { op: 'flip', family: 'geometry', summary: 'Mirror top to bottom', variants: none },
  { op: 'flop', family: 'geometry', summary: 'Mirror left to right', variants: none },
  {
    op: 'blur',
    family: 'filter',
    summary: 'Box blur: the mean of a (2r+1)x(2r+1) square',
    variants: [{ params: [{ kind: 'int', name: 'radius', min: 1, max: 100, default: 1, doc: 'radius r in pixels' }] }],
  },
  {
    op: 'gaussian-blur',
    family: 'filter',
    summary: 'Gaussian blur',
    variants: [{ params: [{ kind: 'number', name: 'sigma', min: 0.3, max: 1000, doc: 'standard deviation' }] }],
  },
  {
    op: 'median',
    family: 'filter',
    summary: 'Median filter (removes salt-and-pepper noise)',
    variants: [
      {
        params: [{ kind: 'int', name: 'size', min: 3, max: 199, odd: true, default: 3, doc: 'odd window side' }],
      },
    ],
  },
  {
    op: 'sharpen',
    family: 'filter',
    summary: 'Unsharp mask on lightness, with separate amounts for flat and jagged areas',
    variants: [
      {
        params: [
          {
            kind: 'number',
            name: 'sigma',
            min: 0,
            exclusiveMin: true,
            max: 10,
            default: 1,
            doc: 'the mask radius',
          },
          { kind: 'number', name: 'flat', min: 0, max: 100, default: 1, doc: 'amount in flat areas' },
          { kind: 'number', name: 'jagged', min: 0, max: 100, default: 2, doc: 'amount in jagged areas' },
        ],
      },
    ],
  },
  {
    op: 'edge',
    family: 'filter',
    summary: 'Edge detection on the grey image: Sobel gradient magnitude or absolute Laplacian',
    variants: [
      { params: [{ kind: 'enum', name: 'method', values: EDGE_METHODS, default: 'sobel', doc: 'sobel or laplacian' }] },
    ],
  },
  { op: 'emboss', family: 'filter', summary: 'Emboss (relief lit from the top left)', variants: none },
  { op: 'contour', family: 'filter', summary: 'Dark outlines on white', variants: none },
  { op: 'grayscale', aliases: ['greyscale'], family: 'filter', summary: 'Grey (Rec. 709 luma)', variants: none },
  { op: 'sepia', family: 'filter', summary: 'Sepia tone', variants: none },
  { op: 'negate', family: 'filter', summary: 'Negative', variants: none },
  {
    op: 'threshold',
    family: 'filter',
    summary: 'Black and white: grey values at or above the level become white',
    variants: [{ params: [{ kind: 'int', name: 'level', min: 0, max: 255, default: 128, doc: '0-255' }] }],
  },
  {
    op: 'pixelate',
    family: 'filter',
    summary: 'Blocks of the given size, each the mean of its pixels',
    variants: [{ params: [{ kind: 'int', name: 'size', min: 2, max: 1024, default: 8, doc: 'block side' }] }],
  },
  {
    op: 'brightness',
    family: 'enhance',
    summary: 'Multiply lightness (1 unchanged)',
    variants: [{ params: [factor('multiplier, 1 unchanged')] }],
  },
  {
    op: 'contrast',
    family: 'enhance',
    summary: 'Stretch values away from mid-grey: factor * (v - 128) + 128',
    variants: [{ params: [factor('1 unchanged, 0 flat grey')] }],
  },
  {
    op: 'saturation',
    family: 'enhance',
    summary: 'Multiply colourfulness (0 grey, 1 unchanged)',
    variants: [{ params: [factor('multiplier, 1 unchanged')] }],
  },
  {
    op: 'hue',
    family: 'enhance',
    summary: 'Rotate hue',
    variants: [{ params: [{ kind: 'int', name: 'degrees', min: -360, max: 360, doc: 'degrees' }] }],
    normalise(op) {
      op['degrees'] = ((((op['degrees'] as number) % 360) + 360) % 360) + 0;
    },
  },
  {
    op: 'gamma',
    family: 'enhance',
    summary: 'Gamma correction: 255 * (v / 255) ^ (1 / gamma); above 1 brightens mid-tones',
    variants: [{ params: [{ kind: 'number', name: 'gamma', min: 0.34, max: 3, doc: '0.34-3, 1 unchanged' }] }],
  },
  {
    op: 'sharpness',
    family: 'enhance',
    summary: 'Blend with a smoothed copy: 0 smooth, 1 unchanged, above 1 sharper (as PIL ImageEnhance.Sharpness)',
    variants: [{ params: [factor('0 smooth, 1 unchanged, 2 twice as sharp')] }],
  },
  {
    op: 'auto-level',
    family: 'enhance',
    summary: 'Stretch lightness so the given percentiles become black and white (normalise)',
    variants: [
      {
        params: [
          { kind: 'int', name: 'lower', min: 0, max: 99, default: 1, doc: 'percentile made black' },
          { kind: 'int', name: 'upper', min: 1, max: 100, default: 99, doc: 'percentile made white' },
        ],
      },
    ],
    check: (op) =>
      (op['lower'] as number) < (op['upper'] as number) ? undefined : 'lower must be below upper percentile',
  },
  {
    op: 'clahe',
    family: 'enhance',
    summary: 'Contrast-limited adaptive histogram equalisation (local contrast)',
    variants: [
      {
        params: [
          { kind: 'int', name: 'width', min: 1, max: 256, default: 32, doc: 'tile width' },
          { kind: 'int', name: 'height', min: 1, max: 256, default: 32, doc: 'tile height' },
          { kind: 'int', name: 'slope', min: 0, max: 100, default: 3, doc: 'contrast limit, 0 none' },
        ],
      },
    ],
  },
  {
    op: 'format',
    family: 'output',
    summary: 'The output format (default: the input format); auto picks AVIF, WebP or JPEG from the Accept header',
    variants: [
      {
        params: [
          {
            kind: 'enum',
            name: 'format',
            values: FORMAT_CHOICES,
            aliases: { jpg: 'jpeg', tif: 'tiff' },
            doc: FORMAT_CHOICES.join(', '),
          },
          {
            kind: 'int',
            name: 'quality',
            min: 1,
            max: 100,
            optional: true,
            doc: '1-100: JPEG, WebP, AVIF; PNG: palette quantisation',
          },
          { kind: 'bool', name: 'progressive', default: false, doc: 'progressive JPEG, interlaced PNG or GIF' },
        ],
      },
    ],
    check(op) {
      const format = op['format'] as string;
      if (op['quality'] !== undefined && ['tiff', 'gif', 'bmp'].includes(format)) return `${format} takes no quality`;
      if (op['progressive'] === true && ['webp', 'avif', 'tiff', 'bmp'].includes(format)) {
        return `${format} cannot be progressive`;
      }
      return undefined;
    },
  },
  {
    op: 'metadata',
    family: 'output',
    summary: 'icc (default): keep the colour profile only; strip: nothing, colours converted to sRGB; keep: all',
    variants: [{ params: [{ kind: 'enum', name: 'mode', values: METADATA_MODES, doc: METADATA_MODES.join(', ') }] }],
  },
  {
    op: 'auto-orient',
    family: 'output',
    summary: 'Turn the image upright as its EXIF orientation says, before every operation (default 1)',
    variants: [{ params: [{ kind: 'bool', name: 'enabled', default: true, doc: '1 or 0' }] }],
  },
];

const BY_NAME = new Map<string, OpSpec>();
for (const spec of OPERATIONS) {
  BY_NAME.set(spec.op, spec);
  for (const alias of spec.aliases ?? []) BY_NAME.set(alias, spec);
}

export function operationSpec(name: string): OpSpec | undefined {
  return BY_NAME.get(name);
}

export function specOf(op: Operation): OpSpec {
  return BY_NAME.get(op.op)!;
}

export function variantOf(spec: OpSpec, op: Record<string, unknown>): Variant {
  return spec.variants.find((variant) => variant.mode === op['mode']) ?? spec.variants[0]!;
}

/** Gravity values alone (crop and resize positions also take smart and entropy). */
export const GRAVITY_VALUES: readonly string[] = GRAVITIES;
