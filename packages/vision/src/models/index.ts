export * from './checksum.ts';
export * from './fetch-models.ts';
export * from './manifest.ts';
export * from './model-loader.ts';
export * from './models-dir.ts';
export * from './onnx-metadata.ts';
