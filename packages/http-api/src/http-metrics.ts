import { Histogram, register } from 'prom-client';

const NAME = 'imgpipe_http_request_duration_seconds';

/** Request latency by method, route template and status (RED metrics for the API). Shared by every app in a process. */
export function httpDurationHistogram(): Histogram<'method' | 'route' | 'status_code'> {
  const existing = register.getSingleMetric(NAME);
  if (existing) return existing as Histogram<'method' | 'route' | 'status_code'>;
  return new Histogram({
    name: NAME,
    help: 'HTTP API request duration by method, route and status code',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  });
}
