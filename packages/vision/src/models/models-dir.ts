import { homedir } from 'node:os';
import { join } from 'node:path';
import { type ConfigEnv, loadConfig, optionalStr } from '@imgpipe/core';

const modelsDirSettings = {
  modelsDir: optionalStr('IMGPIPE_MODELS_DIR'),
  xdgCacheHome: optionalStr('XDG_CACHE_HOME'),
};

/** The user's model cache: $XDG_CACHE_HOME/imgpipe/models, or ~/.cache/imgpipe/models. */
export function cacheModelsDir(xdgCacheHome: string | undefined): string {
  return join(xdgCacheHome || join(homedir(), '.cache'), 'imgpipe', 'models');
}

/**
 * Where models live when nothing is configured: IMGPIPE_MODELS_DIR, else the user's cache
 * ($XDG_CACHE_HOME/imgpipe/models or ~/.cache/imgpipe/models), where `imgpipe models fetch` puts them.
 * `env` defaults to the process environment, read by the configuration module.
 */
export function defaultModelsDir(env?: ConfigEnv): string {
  const { modelsDir, xdgCacheHome } = loadConfig(modelsDirSettings, env);
  return modelsDir ?? cacheModelsDir(xdgCacheHome);
}
