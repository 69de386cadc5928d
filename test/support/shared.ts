import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The shared fixtures (images, models): IMGPIPE_SHARED_DIR, default <repo>/../shared. */
export function sharedPath(...parts: string[]): string {
  const root = process.env['IMGPIPE_SHARED_DIR'] ?? fileURLToPath(new URL('../../../shared/', import.meta.url));
  return join(root, ...parts);
}
