/**
 * The image's scene measures (ImageScene): texture (texture.ts) and composition (composition.ts), computed on a grey
 * image of at most SCENE_SIDE px on its long side, with values rounded for the result (4 decimals, tilt 2).
 */
import type { ImageScene } from '@imgpipe/contracts';
import { compositionMeasures } from './composition.ts';
import { type GreyImage, halve } from './grey-image.ts';
import { sobel } from './sobel.ts';
import { textureStatistics } from './texture.ts';

export const SCENE_SIDE = 256;

export function sceneMeasures(grey: GreyImage): ImageScene {
  let image = grey;
  while (Math.max(image.width, image.height) > SCENE_SIDE && Math.min(image.width, image.height) > 1)
    image = halve(image);
  const gradients = sobel(image);
  const texture = textureStatistics(image, gradients);
  const composition = compositionMeasures(image, gradients);
  return {
    texture: {
      contrast: round(texture.contrast, 4),
      homogeneity: round(texture.homogeneity, 4),
      energy: round(texture.energy, 4),
      entropy: round(texture.entropy, 4),
      edgeDensity: round(texture.edgeDensity, 4),
    },
    composition: {
      ...(composition.weightCenter
        ? {
            weightCenter: { x: round(composition.weightCenter.x, 4), y: round(composition.weightCenter.y, 4) },
            thirdsDistance: round(composition.thirdsDistance!, 4),
          }
        : {}),
      symmetry: round(composition.symmetry, 4),
      ...(composition.horizonTilt === undefined ? {} : { horizonTilt: round(composition.horizonTilt, 2) }),
    },
  };
}

/** Rounded to `digits` decimals, with -0 as 0. */
function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor || 0;
}
