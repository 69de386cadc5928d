export * from './results.ts';
export * from './topics.ts';
