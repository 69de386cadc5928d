export * from './blob-store.ts';
export * from './storage-settings.ts';
export * from './keys.ts';
