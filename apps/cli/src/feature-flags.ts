import { type FeatureOptions, normalizeFeatureOptions } from '@imgpipe/vision/features';
import { UsageError, wholeNumber } from './cli-args.ts';

/**
 * The detector options of `imgpipe features` and `imgpipe match`: `--detector`, `--nfeatures` and repeated
 * `--param name=value` (numbers as numbers), checked as the HTTP routes check theirs; a bad one is a usage error.
 */
export function featureOptionsFromFlags(flags: {
  detector?: string;
  nfeatures?: string;
  param: string[];
}): FeatureOptions {
  const params: Record<string, unknown> = {};
  if (flags.nfeatures !== undefined) params['nfeatures'] = wholeNumber('--nfeatures', flags.nfeatures, 0);
  for (const entry of flags.param) {
    const match = /^([A-Za-z]+)=(.+)$/.exec(entry);
    if (!match) throw new UsageError(`--param takes name=value (got '${entry}')`);
    const [, name, raw] = match as unknown as [string, string, string];
    params[name] = /^-?\d+(\.\d+)?(e-?\d+)?$/i.test(raw) ? Number(raw) : raw;
  }
  try {
    return normalizeFeatureOptions({ detector: flags.detector, params });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
