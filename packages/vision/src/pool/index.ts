export * from './event-loop-delay.ts';
export * from './executor.ts';
export * from './handler-ref.ts';
export * from './worker-pool.ts';
