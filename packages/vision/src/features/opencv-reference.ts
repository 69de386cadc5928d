/**
 * Test support: the OpenCV reference fixtures (made by scripts/features-reference.py, never by this code) and the
 * shared images they were made from, decoded the way imgpipe decodes them. Not exported from the package.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { sharp } from '../sharp-instance.ts';
import { sharedPath } from '../testing/shared.ts';
import type { Keypoint } from './sift.ts';

export interface ReferenceSet {
  params: Record<string, number>;
  /** All keypoints OpenCV found. */
  count: number;
  /** The strongest `top` of them, [x, y, size, angle, response, octave]. */
  keypoints: Keypoint[];
  /** Their descriptors, descriptorSize bytes each. */
  descriptors: Uint8Array;
  descriptorSize: number;
}

export interface Reference {
  name: string;
  image: string;
  grey: { width: number; height: number; sha256: string };
  sift: ReferenceSet;
  orb: ReferenceSet;
  /** Keypoint counts OpenCV gives with non-default parameters (first image only). */
  paramCounts?: { detector: 'sift' | 'orb'; params: Record<string, number | string>; count: number }[];
}

const DIR = new URL('./fixtures/', import.meta.url);

export function loadReferences(): Reference[] {
  return readdirSync(DIR)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((file) => {
      const raw = JSON.parse(readFileSync(new URL(file, DIR), 'utf8'));
      const set = (entry: Record<string, unknown>): ReferenceSet => ({
        params: entry['params'] as Record<string, number>,
        count: entry['count'] as number,
        descriptorSize: entry['descriptorSize'] as number,
        keypoints: (entry['keypoints'] as number[][]).map(([x, y, size, angle, response, octave]) => ({
          x: x!,
          y: y!,
          size: size!,
          angle: angle!,
          response: response!,
          octave: octave!,
        })),
        descriptors: new Uint8Array(Buffer.from(entry['descriptors'] as string, 'base64')),
      });
      return {
        name: file.replace(/\.json$/, ''),
        image: raw.image,
        grey: raw.grey,
        sift: set(raw.sift),
        orb: set(raw.orb),
        ...(raw.paramCounts ? { paramCounts: raw.paramCounts } : {}),
      };
    });
}

/** The shared image as RGB pixels, oriented, as the pipeline's decoders produce them. */
export async function loadRgb(image: string): Promise<{ data: Uint8Array; width: number; height: number }> {
  const { data, info } = await sharp(sharedPath('images', image))
    .rotate()
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    width: info.width,
    height: info.height,
  };
}

/** Smallest difference of two angles in degrees. */
export function angleDifference(a: number, b: number): number {
  return Math.abs(((a - b + 540) % 360) - 180);
}
