/**
 * The ZXing-C++ reader (npm zxing-wasm), instantiated once per thread from the .wasm file its package ships in
 * node_modules. By default the package would fetch the binary from a CDN; here it never touches the network.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ModelIdentity } from '@imgpipe/contracts';
import { ImgpipeError } from '@imgpipe/core';
import {
  prepareZXingModule,
  purgeZXingModule,
  readBarcodes,
  ZXING_CPP_COMMIT,
  ZXING_WASM_VERSION,
} from 'zxing-wasm/reader';

const require = createRequire(import.meta.url);

export interface ZxingReader {
  readBarcodes: typeof readBarcodes;
  /** zxing-wasm's version and the SHA-256 of the .wasm it runs. */
  identity: ModelIdentity;
}

let loading: Promise<ZxingReader> | undefined;

async function instantiate(): Promise<ZxingReader> {
  let wasmBinary: Buffer;
  try {
    wasmBinary = readFileSync(require.resolve('zxing-wasm/reader/zxing_reader.wasm'));
  } catch (error) {
    throw new ImgpipeError('MODEL_NOT_FOUND', `zxing-wasm's reader is not installed: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const sha256 = createHash('sha256').update(wasmBinary).digest('hex');
  try {
    // A fresh ArrayBuffer view: Emscripten keeps the binary, and a pooled Buffer's backing store holds other data.
    await prepareZXingModule({ overrides: { wasmBinary: new Uint8Array(wasmBinary).buffer }, fireImmediately: true });
  } catch (error) {
    throw new ImgpipeError('MODEL_INVALID', `zxing_reader.wasm did not instantiate: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const version = `${ZXING_WASM_VERSION} (zxing-cpp ${ZXING_CPP_COMMIT.slice(0, 12)})`;
  return { readBarcodes, identity: { name: 'zxing-wasm-reader', version, sha256 } };
}

/** The reader of this thread, loaded on first use. */
export function zxingReader(): Promise<ZxingReader> {
  if (!loading) {
    loading = instantiate();
    loading.catch(() => {
      loading = undefined;
    });
  }
  return loading;
}

/** Drops this thread's reader after a failure, so the next call instantiates a fresh one. */
export function resetZxingReader(): void {
  purgeZXingModule();
  loading = undefined;
}
