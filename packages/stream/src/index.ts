export * from './consumer-health.ts';
export * from './dead-letter.ts';
export * from './kafka-client.ts';
export * from './message-codec.ts';
export * from './metrics.ts';
export * from './retry-policy.ts';
export * from './stage.ts';
export * from './stage-runner.ts';
