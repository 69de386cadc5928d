/**
 * Detector choice and parameters: OpenCV's names and defaults, checked once, completed with defaults, and
 * rendered as a canonical key (what a cache of results by image hash and parameters is keyed on).
 *
 *   const { detector, params } = normalizeFeatureOptions({ detector: 'sift', params: { contrastThreshold: 0.03 } });
 *   featureParamsKey(detector, params)   // 'sift:contrastThreshold=0.03,edgeThreshold=10,nOctaveLayers=3,...'
 *
 * Mistakes are REQUEST_INVALID errors naming the parameter and what it takes.
 */
import { ImgpipeError } from '@imgpipe/core';
import { ORB_DEFAULTS, type OrbParams } from './orb.ts';
import { SIFT_DEFAULTS, type SiftParams } from './sift.ts';

export const DETECTORS = ['sift', 'orb'] as const;
export type Detector = (typeof DETECTORS)[number];

export type FeatureOptions = { detector: 'sift'; params: SiftParams } | { detector: 'orb'; params: OrbParams };

export interface FeatureOptionsInput {
  /** Default 'sift'. */
  detector?: string;
  /** Any subset of the detector's parameters; the rest take OpenCV's defaults. */
  params?: Partial<SiftParams> | Partial<OrbParams> | Readonly<Record<string, unknown>>;
}

interface Rule {
  integer?: boolean;
  min: number;
  /** Exclusive lower bound instead of min. */
  above?: boolean;
  max: number;
}

const SIFT_RULES: Record<keyof SiftParams, Rule> = {
  nfeatures: { integer: true, min: 0, max: 100_000 },
  nOctaveLayers: { integer: true, min: 1, max: 10 },
  contrastThreshold: { min: 0, max: 1 },
  edgeThreshold: { min: 0, above: true, max: 1000 },
  sigma: { min: 0, above: true, max: 10 },
};

const ORB_RULES: Record<Exclude<keyof OrbParams, 'scoreType'>, Rule> = {
  nfeatures: { integer: true, min: 1, max: 100_000 },
  scaleFactor: { min: 1, above: true, max: 2 },
  nlevels: { integer: true, min: 1, max: 16 },
  edgeThreshold: { integer: true, min: 3, max: 256 },
  fastThreshold: { integer: true, min: 0, max: 255 },
};

export function normalizeFeatureOptions(input: FeatureOptionsInput = {}): FeatureOptions {
  const detector = input.detector ?? 'sift';
  const given = (input.params ?? {}) as Record<string, unknown>;
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new ImgpipeError('REQUEST_INVALID', 'feature parameters must be an object of name: value');
  }
  if (detector === 'sift') return { detector, params: checked(detector, SIFT_RULES, SIFT_DEFAULTS, given) };
  if (detector === 'orb') {
    const { scoreType, ...rest } = given;
    const params = checked(detector, ORB_RULES, ORB_DEFAULTS, rest) as OrbParams;
    if (scoreType !== undefined) {
      if (scoreType !== 'harris' && scoreType !== 'fast') {
        throw new ImgpipeError(
          'REQUEST_INVALID',
          `orb scoreType must be 'harris' or 'fast' (got ${String(scoreType)})`,
        );
      }
      params.scoreType = scoreType;
    } else {
      params.scoreType = ORB_DEFAULTS.scoreType;
    }
    return { detector, params };
  }
  throw new ImgpipeError('REQUEST_INVALID', `unknown detector '${detector}' (expected ${DETECTORS.join(' or ')})`);
}

function checked<P extends object>(
  detector: string,
  rules: Record<string, Rule>,
  defaults: Readonly<P>,
  given: Record<string, unknown>,
): P {
  const params = { ...defaults } as Record<string, unknown>;
  for (const [name, value] of Object.entries(given)) {
    const rule = rules[name];
    if (!rule) {
      const known = [...Object.keys(rules), ...(detector === 'orb' ? ['scoreType'] : [])].join(', ');
      throw new ImgpipeError('REQUEST_INVALID', `${detector} has no parameter '${name}' (it takes ${known})`);
    }
    if (value === undefined) continue;
    const bound = `${rule.above ? `> ${rule.min}` : `>= ${rule.min}`} and <= ${rule.max}`;
    if (
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      (rule.integer && !Number.isInteger(value)) ||
      (rule.above ? value <= rule.min : value < rule.min) ||
      value > rule.max
    ) {
      throw new ImgpipeError(
        'REQUEST_INVALID',
        `${detector} ${name} must be ${rule.integer ? 'a whole number' : 'a number'} ${bound} (got ${JSON.stringify(value)})`,
      );
    }
    params[name] = value;
  }
  return params as P;
}

/** The canonical text of a detector and its complete parameters: equal options give equal keys. */
export function featureParamsKey(options: FeatureOptions): string {
  const entries = Object.entries(options.params).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${options.detector}:${entries.map(([name, value]) => `${name}=${value}`).join(',')}`;
}
