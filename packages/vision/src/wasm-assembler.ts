/**
 * A minimal WebAssembly assembler: the instructions SIFT's kernels (features/blur-simd.ts, descriptor-wasm.ts) and
 * the letterbox (geometry/letterbox-wasm.ts) use, a function body from locals and code, and a module that imports
 * one memory ("m" "memory") and exports functions.
 * Instructions are byte arrays spliced together; locals are numbered, parameters first. Enough to keep a few hundred
 * bytes of hot loops in TypeScript source without a toolchain or a binary file in the repository.
 */

export const I32 = 0x7f;
export const F64 = 0x7c;
export const V128 = 0x7b;

export function uleb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

export function sleb(value: number): number[] {
  const out: number[] = [];
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function f64Bytes(value: number): number[] {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setFloat64(0, value, true);
  return [...bytes];
}

export const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  /** if ... else ... end leaving nothing, or an f64. */
  if: [0x04, 0x40],
  ifF64: [0x04, F64],
  else: [0x05],
  end: [0x0b],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  call: (index: number) => [0x10, ...uleb(index)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  get: (local: number) => [0x20, ...uleb(local)],
  set: (local: number) => [0x21, ...uleb(local)],
  tee: (local: number) => [0x22, ...uleb(local)],
  i32Load: (offset: number) => [0x28, 2, ...uleb(offset)],
  /** i32.load8_u: one byte, zero-extended. */
  i32Load8U: (offset: number) => [0x2d, 0, ...uleb(offset)],
  f32Load: (offset: number) => [0x2a, 2, ...uleb(offset)],
  f64Load: (offset: number) => [0x2b, 3, ...uleb(offset)],
  i32Store: (offset: number) => [0x36, 2, ...uleb(offset)],
  f32Store: (offset: number) => [0x38, 2, ...uleb(offset)],
  f64Store: (offset: number) => [0x39, 3, ...uleb(offset)],
  i32Const: (value: number) => [0x41, ...sleb(value)],
  f64Const: (value: number) => [0x44, ...f64Bytes(value)],
  i32Eqz: [0x45],
  i32LtS: [0x48],
  i32GtS: [0x4a],
  i32LeS: [0x4c],
  i32GeS: [0x4e],
  f64Lt: [0x63],
  f64Le: [0x65],
  f64Gt: [0x64],
  f64Ge: [0x66],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Mul: [0x6c],
  i32And: [0x71],
  i32Or: [0x72],
  i32Shl: [0x74],
  i32ShrS: [0x75],
  f64Abs: [0x99],
  f64Neg: [0x9a],
  f64Ceil: [0x9b],
  f64Floor: [0x9c],
  f64Nearest: [0x9e],
  f64Sqrt: [0x9f],
  f64Add: [0xa0],
  f64Sub: [0xa1],
  f64Mul: [0xa2],
  f64Div: [0xa3],
  f64Min: [0xa4],
  f64Max: [0xa5],
  i32TruncF64S: [0xaa],
  /** i32.trunc_sat_f64_s: saturating, never traps. */
  i32TruncSatF64S: [0xfc, 0x02],
  f64ConvertI32S: [0xb7],
  f64ConvertI32U: [0xb8],
  f32DemoteF64: [0xb6],
  f64PromoteF32: [0xbb],
  simd: (code: number, ...rest: number[]) => [0xfd, ...uleb(code), ...rest],
  /** v128.const of two float64 lanes. */
  v128Const: (lanes: [number, number]) => [0xfd, ...uleb(0x0c), ...lanes.flatMap(f64Bytes)],
  drop: [0x1a],
  /** memory.copy: (destination, source, bytes) on the stack. */
  memoryCopy: [0xfc, 0x0a, 0x00, 0x00],
};

export interface WasmFunction {
  name: string;
  params: number[];
  results?: number[];
  /** [count, type] runs of further locals, numbered after the parameters. */
  locals: [number, number][];
  code: number[];
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function vector(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function name(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  return [...uleb(bytes.length), ...bytes];
}

/** A module importing "m" "memory" and exporting `functions` under their names. */
export function assembleModule(functions: readonly WasmFunction[]): Uint8Array<ArrayBuffer> {
  const bodies = functions.map((f) => {
    const bytes = [...vector(f.locals.map(([n, type]) => [...uleb(n), type])), ...f.code, ...op.end];
    return [...uleb(bytes.length), ...bytes];
  });
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(
      1,
      vector(
        functions.map((f) => [0x60, ...vector(f.params.map((t) => [t])), ...vector((f.results ?? []).map((t) => [t]))]),
      ),
    ),
    ...section(2, vector([[...name('m'), ...name('memory'), 0x02, 0x00, 0x01]])),
    ...section(3, vector(functions.map((_, i) => uleb(i)))),
    ...section(7, vector(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vector(bodies)),
  ]);
}

/** The few WebAssembly APIs used (the project's lib settings declare none: no DOM lib, @types/node lacks them). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number }) => WasmMemory;
  Module: new (bytes: Uint8Array<ArrayBuffer>) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
export const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
