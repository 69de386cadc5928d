export * from './blob-store.ts';
export * from './blob-store-from-env.ts';
export * from './keys.ts';
