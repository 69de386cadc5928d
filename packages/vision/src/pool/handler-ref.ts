/**
 * A stage handler named by its module and export, so the same function can run here or be imported by a worker
 * thread. Handlers are pure async functions of structured-cloneable arguments (bytes, plain objects) returning
 * structured-cloneable results; whatever they need (models, sessions) they load through per-thread caches.
 *
 *   export async function recognizeText(image: NormalizedImage, options: OcrOptions): Promise<OcrResult> { ... }
 *   export const recognizeTextHandler = handlerRef<typeof recognizeText>(import.meta.url, 'recognizeText');
 */
// biome-ignore lint/suspicious/noExplicitAny: a handler's parameters are checked where the ref is made
export type StageFunction = (...args: any[]) => unknown;

export interface HandlerRef<F extends StageFunction> {
  /** File URL of the module that exports the handler. */
  readonly module: string;
  /** Name of the exported function. */
  readonly name: string;
  /** Type-only: carries the handler's signature. */
  readonly signature?: F;
}

export function handlerRef<F extends StageFunction>(module: string | URL, name: string): HandlerRef<F> {
  return Object.freeze({ module: String(module), name });
}

export type HandlerArgs<F extends StageFunction> = Parameters<F>;
export type HandlerResult<F extends StageFunction> = Awaited<ReturnType<F>>;

const loaded = new Map<string, Promise<Record<string, unknown>>>();

/** The handler function itself, imported once per thread. */
export async function resolveHandler<F extends StageFunction>(ref: HandlerRef<F>): Promise<F> {
  let loading = loaded.get(ref.module);
  if (!loading) {
    loading = import(ref.module) as Promise<Record<string, unknown>>;
    loaded.set(ref.module, loading);
  }
  const fn = (await loading)[ref.name];
  if (typeof fn !== 'function') throw new Error(`${ref.module} has no exported function ${ref.name}`);
  return fn as F;
}
