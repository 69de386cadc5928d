export * from './circuit-breaker.ts';
export * from './config.ts';
export * from './endpoints.ts';
export * from './errors.ts';
export * from './seeded-random.ts';
