import { ImgpipeError } from './errors.ts';

/**
 * Typed configuration from environment variables, read once and validated at start-up. Every mistake is reported
 * at once, one line per variable, so a misconfigured deployment fails with a complete list instead of the first hit.
 *
 *   const config = loadConfig({ port: int('PORT', { default: 8080, min: 1, max: 65535 }) });
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

export function optionalStr(variable: string, options: { description?: string } = {}): Setting<string | undefined> {
  return {
    variable,
    description: options.description,
    parse: (raw) => (raw === undefined || raw === '' ? undefined : raw),
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

export type ConfigOf<S extends Record<string, Setting<unknown>>> = {
  readonly [K in keyof S]: ReturnType<S[K]['parse']>;
};

export function loadConfig<S extends Record<string, Setting<unknown>>>(
  settings: S,
  env: ConfigEnv = process.env,
): ConfigOf<S> {
  const result: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, setting] of Object.entries(settings)) {
    try {
      result[key] = setting.parse(env[setting.variable]);
    } catch (error) {
      if (!(error instanceof SettingError)) throw error;
      problems.push(error.message);
    }
  }
  if (problems.length > 0) {
    throw new ImgpipeError('CONFIG_INVALID', `invalid configuration:\n  - ${problems.join('\n  - ')}`, {
      details: { problems },
    });
  }
  return Object.freeze(result) as ConfigOf<S>;
}
