/**
 * Test and benchmark support (not exported): the shared fixtures (IMGPIPE_SHARED_DIR, default <repo>/../shared).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function sharedDir(): string {
  return process.env['IMGPIPE_SHARED_DIR'] ?? fileURLToPath(new URL('../../../../../shared/', import.meta.url));
}

export function sharedPath(...parts: string[]): string {
  return join(sharedDir(), ...parts);
}

export function readShared(...parts: string[]): Buffer {
  return readFileSync(sharedPath(...parts));
}

/** The photos of shared/images/photos, sorted by name. */
export function sharedPhotos(): { name: string; bytes: Buffer }[] {
  const dir = sharedPath('images', 'photos');
  return readdirSync(dir)
    .filter((name) => /\.(jpe?g|png)$/i.test(name))
    .sort()
    .map((name) => ({ name, bytes: readFileSync(join(dir, name)) }));
}
