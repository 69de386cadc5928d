import { Histogram, register } from 'prom-client';

const NAME = 'imgpipe_model_inference_duration_seconds';

/**
 * Model inference time per image, by model: observed by the analysis stage handlers wherever they run, served on
 * /metrics by stage processes. Registered once per process in prom-client's default registry.
 */
export const modelDuration: Histogram<'model'> =
  (register.getSingleMetric(NAME) as Histogram<'model'> | undefined) ??
  new Histogram({
    name: NAME,
    help: 'Model inference time per image, by model',
    labelNames: ['model'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  });
