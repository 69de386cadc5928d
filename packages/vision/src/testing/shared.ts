/**
 * Test and benchmark support: where the shared fixtures live (IMGPIPE_SHARED_DIR, default <repo>/../shared).
 * Not exported from the package entry point.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function sharedDir(): string {
  return process.env['IMGPIPE_SHARED_DIR'] ?? fileURLToPath(new URL('../../../../../shared/', import.meta.url));
}

export function sharedPath(...parts: string[]): string {
  return join(sharedDir(), ...parts);
}

/** The shared models folder: what tests and benchmarks load models from. */
export function sharedModelsDir(): string {
  return sharedPath('models');
}

export function readShared(...parts: string[]): Uint8Array {
  return new Uint8Array(readFileSync(sharedPath(...parts)));
}
