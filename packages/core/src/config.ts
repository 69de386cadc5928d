import { ImgpipeError } from './errors.ts';

/**
 * Typed configuration from environment variables, read once and validated at start-up. Every mistake is reported
 * at once, one line per variable, so a misconfigured deployment fails with a complete list instead of the first hit.
 *
 *   const config = loadConfig({ port: int('PORT', { default: 8080, min: 1, max: 65535 }) });
 *
 * Packages export their settings; each process composes them into one tree (groups nest) and loads it once, so a
 * mistake in any package's variables is reported together with all the others:
 *
 *   const config = loadConfig({ stream: stageProcessSettings, vision: visionSettings });   // config.vision.faceModel
 */
export interface Setting<T> {
  readonly variable: string;
  readonly description?: string;
  parse(raw: string | undefined): T;
}

/** Environment variables as loadConfig reads them; omitted, loadConfig reads the process's own (the one place that does). */
export type ConfigEnv = Readonly<Record<string, string | undefined>>;

class SettingError extends Error {}

function required(variable: string): never {
  throw new SettingError(`${variable} is required`);
}

interface Options<T> {
  default?: T;
  description?: string;
}

export function str(variable: string, options: Options<string> & { oneOf?: readonly string[] } = {}): Setting<string> {
  return {
    variable,
    description: options.description,
    parse(raw) {
      const value = raw === undefined || raw === '' ? (options.default ?? required(variable)) : raw;
      if (options.oneOf && !options.oneOf.includes(value)) {
        throw new SettingError(`${variable} must be one of ${options.oneOf.join(', ')} (got "${value}")`);
      }
      return value;
    },
  };
}

export function optionalStr(
  variable: string,
  options: { description?: string; minLength?: number } = {},
): Setting<string | undefined> {
  return {
    variable,
    description: options.description,
    parse(raw) {
      if (raw === undefined || raw === '') return undefined;
      if (options.minLength !== undefined && raw.length < options.minLength) {
        throw new SettingError(`${variable} must be at least ${options.minLength} characters (got ${raw.length})`);
      }
      return raw;
    },
  };
}

/** A URL whose scheme is one of `protocols` (default http and https). */
export function url(
  variable: string,
  options: Options<string> & { protocols?: readonly string[] } = {},
): Setting<string> {
  const protocols = options.protocols ?? ['http:', 'https:'];
  return {
    variable,
    description: options.description,
    parse(raw) {
      const value = raw === undefined || raw === '' ? (options.default ?? required(variable)) : raw;
      let parsed: URL;
      try {
        parsed = new URL(value);
      } catch {
        throw new SettingError(`${variable} must be a URL such as ${protocols[0]}//host:port (got "${value}")`);
      }
      if (!protocols.includes(parsed.protocol)) {
        const schemes = protocols.map((protocol) => `${protocol}//`).join(' or ');
        throw new SettingError(`${variable} must be a URL starting with ${schemes} (got "${value}")`);
      }
      return value;
    },
  };
}

/** An optional URL: unset or empty is undefined. */
export function optionalUrl(
  variable: string,
  options: { description?: string; protocols?: readonly string[] } = {},
): Setting<string | undefined> {
  const checked = url(variable, options);
  return {
    variable,
    description: options.description,
    parse: (raw) => (raw === undefined || raw === '' ? undefined : checked.parse(raw)),
  };
}

export function oneOf<const T extends string>(
  variable: string,
  values: readonly T[],
  options: Options<T> = {},
): Setting<T> {
  return str(variable, { ...options, oneOf: values }) as Setting<T>;
}

export function int(variable: string, options: Options<number> & { min?: number; max?: number } = {}): Setting<number> {
  return {
    variable,
    description: options.description,
    parse(raw) {
      if (raw === undefined || raw === '') return options.default ?? required(variable);
      if (!/^-?\d+$/.test(raw.trim())) throw new SettingError(`${variable} must be a whole number (got "${raw}")`);
      const value = Number(raw);
      if (options.min !== undefined && value < options.min) {
        throw new SettingError(`${variable} must be at least ${options.min} (got ${value})`);
      }
      if (options.max !== undefined && value > options.max) {
        throw new SettingError(`${variable} must be at most ${options.max} (got ${value})`);
      }
      return value;
    },
  };
}

export function num(variable: string, options: Options<number> & { min?: number; max?: number } = {}): Setting<number> {
  return {
    variable,
    description: options.description,
    parse(raw) {
      if (raw === undefined || raw === '') return options.default ?? required(variable);
      const value = Number(raw);
      if (!Number.isFinite(value)) throw new SettingError(`${variable} must be a number (got "${raw}")`);
      if (options.min !== undefined && value < options.min) {
        throw new SettingError(`${variable} must be at least ${options.min} (got ${value})`);
      }
      if (options.max !== undefined && value > options.max) {
        throw new SettingError(`${variable} must be at most ${options.max} (got ${value})`);
      }
      return value;
    },
  };
}

export function bool(variable: string, options: Options<boolean> = {}): Setting<boolean> {
  return {
    variable,
    description: options.description,
    parse(raw) {
      if (raw === undefined || raw === '') return options.default ?? required(variable);
      const normalized = raw.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(normalized)) return true;
      if (['0', 'false', 'no', 'off'].includes(normalized)) return false;
      throw new SettingError(`${variable} must be true or false (got "${raw}")`);
    },
  };
}

export function list(variable: string, options: Options<string[]> = {}): Setting<string[]> {
  return {
    variable,
    description: options.description,
    parse(raw) {
      if (raw === undefined || raw.trim() === '') return options.default ?? required(variable);
      return raw
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean);
    },
  };
}

/**
 * A setting of a shape of its own: `parse` turns the variable's text into the value, or throws an Error whose message
 * says what is wrong (reported with the variable's name, with every other mistake); unset or empty is the default.
 */
export function parsed<T>(variable: string, options: Options<T> & { parse: (raw: string) => T }): Setting<T> {
  return {
    variable,
    description: options.description,
    parse(raw) {
      if (raw === undefined || raw.trim() === '') return options.default ?? required(variable);
      try {
        return options.parse(raw);
      } catch (error) {
        throw new SettingError(`${variable}: ${error instanceof Error ? error.message : String(error)}`);
      }
    },
  };
}

/** Settings, and groups of settings (a package's, nested in a process's), to any depth. */
export interface Settings {
  readonly [key: string]: Setting<unknown> | Settings;
}

export type ConfigOf<S extends Settings> = {
  readonly [K in keyof S]: S[K] extends Setting<infer T> ? T : S[K] extends Settings ? ConfigOf<S[K]> : never;
};

function isSetting(value: Setting<unknown> | Settings): value is Setting<unknown> {
  return typeof value['parse'] === 'function' && typeof value['variable'] === 'string';
}

/**
 * Reads and validates every setting of the tree, then returns the typed, frozen configuration, or throws
 * CONFIG_INVALID listing every mistake (one line per variable, a variable read by two groups named once).
 */
export function loadConfig<S extends Settings>(settings: S, env: ConfigEnv = process.env): ConfigOf<S> {
  const problems: string[] = [];
  const load = (tree: Settings): Record<string, unknown> => {
    const result: Record<string, unknown> = {};
    for (const [key, entry] of Object.entries(tree)) {
      if (!isSetting(entry)) {
        result[key] = load(entry);
        continue;
      }
      try {
        result[key] = entry.parse(env[entry.variable]);
      } catch (error) {
        if (!(error instanceof SettingError)) throw error;
        if (!problems.includes(error.message)) problems.push(error.message);
      }
    }
    return Object.freeze(result);
  };
  const result = load(settings);
  if (problems.length > 0) {
    throw new ImgpipeError('CONFIG_INVALID', `invalid configuration:\n  - ${problems.join('\n  - ')}`, {
      details: { problems },
    });
  }
  return result as ConfigOf<S>;
}
