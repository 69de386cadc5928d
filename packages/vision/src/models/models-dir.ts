import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where models live when nothing is configured: IMGPIPE_MODELS_DIR, else the user's cache
 * ($XDG_CACHE_HOME/imgpipe/models or ~/.cache/imgpipe/models), where `imgpipe models fetch` puts them.
 */
export function defaultModelsDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const configured = env['IMGPIPE_MODELS_DIR'];
  if (configured) return configured;
  const cache = env['XDG_CACHE_HOME'] || join(homedir(), '.cache');
  return join(cache, 'imgpipe', 'models');
}
