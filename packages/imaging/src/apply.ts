/**
 * applyRecipe: bytes in, encoded image out. The input is checked (input.ts), the recipe against the limits
 * (validate.ts), the whole plan against the output pixel limit (plan.ts), all before a pixel is decoded; then the
 * steps run in as few sharp pipelines as their order allows (steps.ts), usually one.
 *
 * Metadata: `icc` (default) keeps the colour profile and the pixels in its space, dropping EXIF (with GPS), XMP
 * and IPTC; `keep` keeps all; `strip` converts to sRGB and drops all. When a recipe needs more than one pipeline the
 * pixels travel raw between them, without metadata; the last pipeline then starts from a 1x1 cut of the original,
 * scaled to the output size, with the pixels composited over it, so the original's metadata is what gets written.
 */
import { ImgpipeError } from '@imgpipe/core';
import type { Sharp } from 'sharp';
import type { DetectionSource, Detections } from './crop.ts';
import { decodeError, inputOptions, isDecodeFailure, probeInput, type SourceInfo } from './input.ts';
import { resolveLimits, type TransformLimits } from './limits.ts';
import { encodeBmp } from './output/bmp.ts';
import { CONTENT_TYPES, encode, keepsAlpha } from './output/encoders.ts';
import { negotiateFormat } from './output/negotiate.ts';
import { detectionNeeds, initialState, needsSettled, type PlanState, planOp, planRecipe, settle } from './plan.ts';
import { flattenOnWhite, hasAlpha, type RawImage } from './raw-image.ts';
import { type MetadataMode, type OutputFormat, type Recipe, type RecipeParts, recipeParts } from './recipe.ts';
import { sharp } from './sharp-instance.ts';
import { PassBuilder, applySteps } from './steps.ts';
import { validateRecipe } from './validate.ts';

export interface ApplyOptions {
  limits?: Partial<TransformLimits>;
  /** The request's Accept header, for `format:auto`. */
  accept?: string;
  /** Faces and objects for `crop:faces` and `crop:objects`, in pixels of the upright input, or a source of them. */
  detections?: Detections | DetectionSource;
}

export interface TransformResult {
  bytes: Buffer;
  format: OutputFormat;
  contentType: string;
  width: number;
  height: number;
}

export async function applyRecipe(
  input: Uint8Array,
  recipe: Recipe,
  options: ApplyOptions = {},
): Promise<TransformResult> {
  const limits = resolveLimits(options.limits);
  validateRecipe(recipe, limits);
  const parts = recipeParts(recipe);
  const source = await probeInput(input, limits, parts.autoOrient);
  const detections = await gatherDetections(parts, options.detections);
  const context = { limits, detections };
  const start = initialState(source.size, source.hasAlpha);
  const plan = planRecipe(parts.pixelOps, start, context);
  const format = outputFormat(parts, source, options.accept, plan.alpha);
  try {
    return await new Execution(input, source, parts, limits, format).run(start, context);
  } catch (error) {
    if (error instanceof ImgpipeError) throw error;
    if (isDecodeFailure(error)) throw decodeError(error, source.format, input);
    throw new ImgpipeError('TRANSFORM_FAILED', `the transform failed: ${(error as Error).message}`, { cause: error });
  }
}

function outputFormat(
  parts: RecipeParts,
  source: SourceInfo,
  accept: string | undefined,
  alpha: boolean,
): OutputFormat {
  const chosen = parts.format?.format;
  if (chosen === 'auto') return negotiateFormat(accept, alpha);
  return chosen ?? source.format;
}

async function gatherDetections(parts: RecipeParts, given: ApplyOptions['detections']): Promise<Detections> {
  const needs = detectionNeeds(parts.pixelOps);
  if (!needs.faces && !needs.objects) return {};
  const kinds = [needs.faces ? 'faces' : '', needs.objects ? 'objects' : ''].filter(Boolean).join(' and ');
  if (given === undefined) {
    throw new ImgpipeError(
      'TRANSFORM_DETECTIONS_UNAVAILABLE',
      `the recipe crops around ${kinds}, and no detections were given for this image`,
    );
  }
  const detections = typeof given === 'function' ? await given(needs) : given;
  if ((needs.faces && detections.faces === undefined) || (needs.objects && detections.objects === undefined)) {
    throw new ImgpipeError(
      'TRANSFORM_DETECTIONS_UNAVAILABLE',
      `the recipe crops around ${kinds}, which were not given`,
    );
  }
  return detections;
}

/** One run of a recipe: the current pipeline's input (the original bytes, or raw pixels) and its steps so far. */
class Execution {
  private raw: RawImage | undefined;
  private pass = new PassBuilder();
  /** Where the last pipeline's smart crop cut (libvips reports it), for the detection map. */
  private cropOffset: { left: number; top: number } | undefined;
  private readonly bytes: Uint8Array;
  private readonly source: SourceInfo;
  private readonly parts: RecipeParts;
  private readonly limits: TransformLimits;
  private readonly format: OutputFormat;

  constructor(
    bytes: Uint8Array,
    source: SourceInfo,
    parts: RecipeParts,
    limits: TransformLimits,
    format: OutputFormat,
  ) {
    this.bytes = bytes;
    this.source = source;
    this.parts = parts;
    this.limits = limits;
    this.format = format;
  }

  async run(start: PlanState, context: Parameters<typeof planOp>[2]): Promise<TransformResult> {
    let state = start;
    for (const op of this.parts.pixelOps) {
      if (needsSettled(op) && !state.settled) state = await this.materialise(state);
      const { steps, next } = planOp(state, op, context);
      for (const step of steps) {
        if (step.slot === 'raw') {
          await this.materialise(state);
          this.raw = step.run(this.raw!);
        } else if (!this.pass.add(step)) {
          await this.materialise(state);
          this.pass.add(step);
        }
      }
      state = next;
    }
    return this.finish(state);
  }

  /** The pipeline so far, from the original (upright, first frame) or from the last raw pixels. */
  private pipeline(): Sharp {
    const base = this.raw
      ? sharp(this.raw.data, { raw: { width: this.raw.width, height: this.raw.height, channels: this.raw.channels } })
      : this.keepingColours(sharp(this.bytes, inputOptions(this.limits, this.parts.autoOrient)));
    return applySteps(base, this.pass.steps);
  }

  /** Pixels stay in the input's colour space unless the output drops its profile (strip) or cannot carry it (BMP). */
  private keepingColours(image: Sharp): Sharp {
    return this.carriesIcc() ? image.keepIccProfile() : image;
  }

  private carriesIcc(): boolean {
    return this.metadata() !== 'strip' && this.source.hasIcc && this.format !== 'bmp';
  }

  private metadata(): MetadataMode {
    return this.parts.metadata;
  }

  /**
   * Runs the pipeline so far to raw pixels (unless that is where we are); the state learns the real size, and the
   * offset libvips chose for a smart crop.
   */
  private async materialise(state: PlanState): Promise<PlanState> {
    if (!this.raw || !this.pass.isEmpty) {
      const { data, info } = await this.pipeline().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
      this.raw = {
        data: new Uint8Array(data.buffer, data.byteOffset, data.length),
        width: info.width,
        height: info.height,
        channels: info.channels as RawImage['channels'],
      };
      this.pass = new PassBuilder();
      this.cropOffset =
        info.cropOffsetLeft !== undefined ? { left: info.cropOffsetLeft, top: info.cropOffsetTop ?? 0 } : undefined;
    }
    return settle(state, { width: this.raw.width, height: this.raw.height }, this.cropOffset);
  }

  private async finish(state: PlanState): Promise<TransformResult> {
    const format = this.format;
    const alpha = this.raw && this.pass.isEmpty ? hasAlpha(this.raw) : state.alpha;
    if (format === 'bmp') {
      await this.materialise(state);
      const image = flattenOnWhite(this.raw!);
      return {
        bytes: encodeBmp(image),
        format,
        contentType: CONTENT_TYPES.bmp,
        width: image.width,
        height: image.height,
      };
    }
    if (alpha && !keepsAlpha(format)) {
      await this.materialise(state);
      this.raw = flattenOnWhite(this.raw!);
    }
    // Pixels that travelled raw lost the original's metadata: write them over the original to get it back.
    const carry = this.raw !== undefined && this.carriesMetadata();
    if (carry && !this.pass.isEmpty) await this.materialise(state);
    let image = carry ? this.overOriginal(this.raw!) : this.pipeline();
    const mode = this.metadata();
    if (mode === 'keep') image = image.keepMetadata();
    else if (mode === 'icc' && this.carriesIcc()) image = image.keepIccProfile();
    const { data, info } = await encode(image, format, this.parts.format).toBuffer({ resolveWithObject: true });
    return { bytes: data, format, contentType: CONTENT_TYPES[format], width: info.width, height: info.height };
  }

  /** Whether the original has metadata the output must carry. */
  private carriesMetadata(): boolean {
    const mode = this.metadata();
    return (mode === 'icc' && this.carriesIcc()) || (mode === 'keep' && this.source.hasMetadata);
  }

  /**
   * Raw pixels written as if by a pipeline over the original, so its metadata comes along: a 1x1 cut of the original
   * (cheap: libvips decodes little), scaled to the size of the pixels, which then replace it entirely.
   */
  private overOriginal(raw: RawImage): Sharp {
    const carrier = sharp(this.bytes, inputOptions(this.limits, this.parts.autoOrient))
      .extract({ left: 0, top: 0, width: 1, height: 1 })
      .resize({ width: raw.width, height: raw.height, fit: 'fill', kernel: 'nearest' })
      .composite([
        {
          input: Buffer.from(raw.data.buffer, raw.data.byteOffset, raw.data.length),
          raw: { width: raw.width, height: raw.height, channels: raw.channels },
          blend: 'source',
        },
      ]);
    return hasAlpha(raw) ? carrier : carrier.removeAlpha();
  }
}
